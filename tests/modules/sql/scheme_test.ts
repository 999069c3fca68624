/**
 * `CVM_*_PWCMP=scheme` in the three SQL modules: Dovecot's `{SCHEME}`
 * values in the password column (made by `doveadm pw` where it is
 * installed, else by our registry), a bare value in `$CVM_DEFAULT_SCHEME`,
 * CRAM-MD5 against a `{CRAM-MD5}` value, an unknown scheme answering
 * CONFIG (6) for that account only. Run under the reference's
 * cvm-testclient.
 */
import { DatabaseSync } from "node:sqlite";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dist, ensureDist, run, tempDir } from "../../_helpers.ts";
import { hashPassword } from "../../../modules/passwords/mod.ts";
import {
  type AccountRow,
  createMyDatabase,
  createPgSchema,
  MY,
  PG,
  QUERY12,
  REF,
  referenceAvailable,
  runWith,
  serviceAvailable,
} from "./_helpers.ts";

const TESTCLIENT = referenceAvailable("cvm-testclient")
  ? `${REF}/cvm-testclient`
  : `${dist}/cvm-testclient`;

/** A hash made by doveadm when it is there (Dovecot's own), else by us. */
async function dovecotHash(scheme: string, password: string): Promise<string> {
  try {
    const out = await run("/usr/bin/doveadm", [
      "pw",
      "-s",
      scheme,
      "-p",
      password,
    ]);
    if (out.code === 0) return out.stdout.trim();
  } catch { /* no doveadm */ }
  return await hashPassword(scheme, new TextEncoder().encode(password));
}

async function rows(): Promise<AccountRow[]> {
  const row = (username: string, password: string): AccountRow => ({
    username,
    domain: "",
    password,
    userid: "1000",
    groupid: "100",
    directory: `/home/${username}`,
  });
  const bare =
    (await hashPassword("SHA512-CRYPT", new TextEncoder().encode("bare pw")))
      .slice("{SHA512-CRYPT}".length);
  return [
    row("ssha", await dovecotHash("SSHA512", "ssha pw")),
    row("blf", await dovecotHash("BLF-CRYPT", "blf pw")),
    row("cram", await dovecotHash("CRAM-MD5", "cram pw")),
    row(
      "argon",
      await hashPassword("ARGON2ID", new TextEncoder().encode("argon pw"), {
        rounds: 1,
        memoryKiB: 1024,
      }),
    ),
    row("bare", bare),
    row("nope", "{NOPE}whatever"),
  ];
}

/** [account, password, exit status of cvm-testclient]. */
const CASES: [string, string, number][] = [
  ["ssha", "ssha pw", 0],
  ["ssha", "ssha px", 100],
  ["blf", "blf pw", 0],
  ["cram", "cram pw", 0],
  ["cram", "cram px", 100],
  ["argon", "argon pw", 0],
  ["argon", "argon px", 100],
  ["bare", "bare pw", 0],
  ["nope", "whatever", 6],
  ["nope", "x", 6],
  ["nobody", "x", 100],
];

async function runCases(module: string, env: Record<string, string>) {
  for (const [account, password, code] of CASES) {
    const out = await runWith(TESTCLIENT, [module, account, "", password], env);
    assertEquals(
      out.code,
      code,
      `${account}/${password}: ${out.stdout}${out.stderr}`,
    );
  }
}

Deno.test("cvm-sqlite, CVM_SQLITE_PWCMP=scheme: {SCHEME} values, the default scheme, unknown schemes CONFIG", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    const db = `${dir.path}/accounts.db`;
    const sqlite = new DatabaseSync(db);
    sqlite.exec(
      "CREATE TABLE accounts (username TEXT, domain TEXT, password TEXT, userid TEXT, groupid TEXT, directory TEXT, realname TEXT, shell TEXT, groupname TEXT, sys_username TEXT, sys_directory TEXT, mailbox TEXT)",
    );
    const insert = sqlite.prepare(
      "INSERT INTO accounts (username, domain, password, userid, groupid, directory) VALUES (?, ?, ?, ?, ?, ?)",
    );
    for (const r of await rows()) {
      insert.run(
        r.username,
        r.domain,
        r.password,
        r.userid,
        r.groupid,
        r.directory,
      );
    }
    sqlite.close();
    await runCases(`${dist}/cvm-sqlite`, {
      CVM_SQLITE_DB: db,
      CVM_SQLITE_QUERY: QUERY12,
      CVM_SQLITE_PWCMP: "scheme",
    });
    // With PLAIN as the default, the bare crypt hash is read as plain text.
    const plain = await runWith(TESTCLIENT, [
      `${dist}/cvm-sqlite`,
      "bare",
      "",
      "bare pw",
    ], {
      CVM_SQLITE_DB: db,
      CVM_SQLITE_QUERY: QUERY12,
      CVM_SQLITE_PWCMP: "scheme",
      CVM_DEFAULT_SCHEME: "PLAIN",
    });
    assertEquals(plain.code, 100);
    const badDefault = await runWith(TESTCLIENT, [
      `${dist}/cvm-sqlite`,
      "ssha",
      "",
      "ssha pw",
    ], {
      CVM_SQLITE_DB: db,
      CVM_SQLITE_PWCMP: "scheme",
      CVM_DEFAULT_SCHEME: "NOPE",
    });
    assertEquals(badDefault.code, 6);
  } finally {
    dir.cleanup();
  }
});

Deno.test({
  name:
    "cvm-pgsql, CVM_PGSQL_PWCMP=scheme: {SCHEME} values, the default scheme, unknown schemes CONFIG",
  ignore: !(await serviceAvailable("PostgreSQL", PG.port)),
  async fn() {
    await ensureDist();
    const schema = await createPgSchema(await rows());
    try {
      await runCases(`${dist}/cvm-pgsql`, {
        ...schema.env,
        CVM_PGSQL_QUERY: QUERY12,
        CVM_PGSQL_PWCMP: "scheme",
      });
    } finally {
      await schema.drop();
    }
  },
});

Deno.test({
  name:
    "cvm-mysql, CVM_MYSQL_PWCMP=scheme: {SCHEME} values, the default scheme, unknown schemes CONFIG",
  ignore: !(await serviceAvailable("MariaDB", MY.port)),
  async fn() {
    await ensureDist();
    const database = await createMyDatabase(await rows());
    try {
      await runCases(`${dist}/cvm-mysql`, {
        ...database.env,
        CVM_MYSQL_QUERY: QUERY12,
        CVM_MYSQL_PWCMP: "scheme",
      });
    } finally {
      await database.drop();
    }
  },
});
