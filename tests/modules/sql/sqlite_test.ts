/**
 * cvm-sqlite with the sample schema and query from the reference's manual
 * (cvm-sqlite.html), run as a command module under the reference's
 * cvm-testclient and as a local-socket server. Debian ships no cvm-sqlite,
 * so the expected output is written out here.
 */
import { DatabaseSync } from "node:sqlite";
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { dist, ensureDist } from "../../_helpers.ts";
import {
  opensslCrypt,
  type Outcome,
  REF,
  referenceAvailable,
  runWith,
  startCaptured,
} from "./_helpers.ts";
import {
  CRYPT_PASSWORD,
  INJECTION_DROP,
  INJECTION_QUOTE,
} from "./_scenarios.ts";

/** The manual's sample schema, verbatim. */
const SAMPLE_SCHEMA = `CREATE TABLE accounts (
  username      TEXT NOT NULL,  -- required
  domain        TEXT NOT NULL DEFAULT '',
  password      TEXT NOT NULL,  -- required
  userid        TEXT NOT NULL,  -- required
  groupid       TEXT NOT NULL,  -- required
  realname      TEXT,           -- opt
  directory     TEXT NOT NULL,  -- required
  shell         TEXT,           -- opt
  groupname     TEXT,           -- opt
  sys_username  TEXT,           -- opt
  sys_directory TEXT,           -- opt
  mailbox_path  TEXT,           -- opt
  UNIQUE (username, domain)
);`;

/** The manual's sample query, verbatim. */
const SAMPLE_QUERY = `
  SELECT
    -- required:
    password, username, userid, groupid, directory,
    -- optional gecos:
    realname, shell,
    -- optional other:
    groupname, domain, sys_username, sys_directory, mailbox_path
  FROM accounts
  WHERE username=$account
  AND   domain=$domain `;

const TESTCLIENT = referenceAvailable("cvm-testclient")
  ? `${REF}/cvm-testclient`
  : `${dist}/cvm-testclient`;
const OURS = `${dist}/cvm-sqlite`;
const HASH = await opensslCrypt(CRYPT_PASSWORD);

type Row = [string, string, string, string, string, string | null, string];

/** username, domain, password, userid, groupid, realname, directory (+ extras). */
const ROWS: [...Row, Record<string, string | null>][] = [
  ["bob", "", "secret", "1000", "100", "Bob Builder", "/home/bob", {
    shell: "/bin/sh",
    groupname: "users",
    sys_username: "sysbob",
    sys_directory: "/var/sys/bob",
    mailbox_path: "Maildir/",
  }],
  ["nul", "", "secret", "1001", "100", null, "/home/nul", {}],
  ["alice", "example.com", "pw-com", "2001", "200", "Alice", "/home/a1", {}],
  ["alice", "example.org", "pw-org", "2002", "200", "Alice", "/home/a2", {}],
  ["carol", "", HASH, "1003", "100", null, "/home/carol", {}],
  [INJECTION_QUOTE, "", "inj-1", "3001", "300", null, "/home/inj1", {}],
  [INJECTION_DROP, "", "inj-2", "3002", "300", null, "/home/inj2", {}],
  ["jürgen", "", "grüße", "4001", "400", "Jürgen", "/home/jürgen", {}],
  ["山田", "", "秘密", "4002", "400", "山田太郎", "/home/yamada", {}],
  ["abc", "", "secret", "abc", "100", null, "/home/abc", {}],
];

/** A database file with the sample schema and rows, in a fresh directory. */
function sampleDatabase(): { dir: string; path: string; remove: () => void } {
  const dir = Deno.makeTempDirSync({ prefix: "cvm-sqlite-" });
  const path = `${dir}/accounts.db`;
  const db = new DatabaseSync(path);
  db.exec(SAMPLE_SCHEMA);
  db.exec("CREATE TABLE postlog (account TEXT, domain TEXT)");
  const insert = db.prepare(
    `INSERT INTO accounts (username, domain, password, userid, groupid,
       realname, directory, shell, groupname, sys_username, sys_directory,
       mailbox_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const [u, d, p, uid, gid, real, dir, extra] of ROWS) {
    insert.run(
      u,
      d,
      p,
      uid,
      gid,
      real,
      dir,
      extra.shell ?? null,
      extra.groupname ?? null,
      extra.sys_username ?? null,
      extra.sys_directory ?? null,
      extra.mailbox_path ?? null,
    );
  }
  db.close();
  return { dir, path, remove: () => Deno.removeSync(dir, { recursive: true }) };
}

function ask(
  args: string[],
  env: Record<string, string>,
  module = OURS,
): Promise<Outcome> {
  return runWith(TESTCLIENT, [module, ...args], env);
}

async function withSample(
  fn: (path: string, env: Record<string, string>) => Promise<void>,
) {
  await ensureDist();
  const sample = sampleDatabase();
  try {
    await fn(sample.path, {
      CVM_SQLITE_DB: sample.path,
      CVM_SQLITE_QUERY: SAMPLE_QUERY,
    });
  } finally {
    sample.remove();
  }
}

Deno.test("cvm-sqlite: the manual's sample schema and query report every fact", () =>
  withSample(async (_, env) => {
    const out = await ask(["bob", "", "secret"], env);
    assertEquals(out, {
      code: 0,
      stdout: [
        "user name:        bob",
        "user ID:          1000",
        "group ID:         100",
        "real name:        Bob Builder",
        "directory:        /home/bob",
        "shell:            /bin/sh",
        "group name:       users",
        "system user name: sysbob",
        "system directory: /var/sys/bob",
        "domain:           ",
        "mailbox path:     Maildir/",
        "",
      ].join("\n"),
      stderr: "",
    });
  }));

Deno.test("cvm-sqlite: NULL optional columns are left out", () =>
  withSample(async (_, env) => {
    const out = await ask(["nul", "", "secret"], env);
    assertEquals(out.code, 0);
    assert(out.stdout.includes("real name:        (null)\n"));
    assert(out.stdout.includes("mailbox path:     (null)\n"));
  }));

Deno.test("cvm-sqlite: wrong passwords and unknown accounts are rejected (100)", () =>
  withSample(async (_, env) => {
    assertEquals((await ask(["bob", "", "wrong"], env)).code, 100);
    assertEquals((await ask(["nobody", "", "secret"], env)).code, 100);
    assertEquals((await ask(["bob", ""], env)).code, 7);
  }));

Deno.test("cvm-sqlite: domain-qualified accounts find their own domain's row", () =>
  withSample(async (_, env) => {
    const com = await ask(["alice@example.com", "", "pw-com"], env);
    assertEquals(com.code, 0);
    assert(com.stdout.includes("user ID:          2001\n"));
    const org = await ask(["alice", "example.org", "pw-org"], env);
    assertEquals(org.code, 0);
    assert(org.stdout.includes("user ID:          2002\n"));
    assertEquals(
      (await ask(["alice@example.com", "", "pw-org"], env)).code,
      100,
    );
    assertEquals((await ask(["alice", "", "pw-com"], env)).code, 100);
  }));

Deno.test("cvm-sqlite: crypt storage with $CVM_SQLITE_PWCMP=crypt", () =>
  withSample(async (_, env) => {
    const crypt = { ...env, CVM_SQLITE_PWCMP: "crypt" };
    assertEquals((await ask(["carol", "", CRYPT_PASSWORD], crypt)).code, 0);
    assertEquals((await ask(["carol", "", "wrong"], crypt)).code, 100);
    assertEquals((await ask(["carol", "", CRYPT_PASSWORD], env)).code, 100);
  }));

Deno.test("cvm-sqlite: injection names are bound values that match only their own rows", () =>
  withSample(async (path, env) => {
    const quote = await ask([INJECTION_QUOTE, "", "inj-1"], env);
    assertEquals(quote.code, 0);
    assert(quote.stdout.includes("user ID:          3001\n"));
    assertEquals((await ask([INJECTION_QUOTE, "", "secret"], env)).code, 100);
    const drop = await ask([INJECTION_DROP, "", "inj-2"], env);
    assertEquals(drop.code, 0);
    assert(drop.stdout.includes("user ID:          3002\n"));
    assertEquals((await ask([INJECTION_DROP, "", "x"], env)).code, 100);
    const db = new DatabaseSync(path);
    const count = db.prepare("SELECT count(*) AS n FROM accounts").get();
    db.close();
    assertEquals(Number(count?.n), ROWS.length);
  }));

Deno.test("cvm-sqlite: Unicode account names", () =>
  withSample(async (_, env) => {
    const latin = await ask(["jürgen", "", "grüße"], env);
    assertEquals(latin.code, 0);
    assert(latin.stdout.includes("directory:        /home/jürgen\n"));
    const cjk = await ask(["山田", "", "秘密"], env);
    assertEquals(cjk.code, 0);
    assert(cjk.stdout.includes("real name:        山田太郎\n"));
  }));

Deno.test("cvm-sqlite: a user ID that is not a number is BAD_MODDATA, never root", () =>
  withSample(async (_, env) => {
    assertEquals((await ask(["abc", "", "secret"], env)).code, 3);
  }));

Deno.test("cvm-sqlite: the post-query runs only after a success", () =>
  withSample(async (path, env) => {
    const post = {
      ...env,
      CVM_SQLITE_POSTQ: "INSERT INTO postlog VALUES ($account, $domain)",
    };
    assertEquals((await ask(["bob", "", "wrong"], post)).code, 100);
    assertEquals((await ask(["abc", "", "secret"], post)).code, 3);
    assertEquals(
      (await ask(["alice@example.org", "", "pw-org"], post)).code,
      0,
    );
    const db = new DatabaseSync(path);
    const rows = db.prepare("SELECT account, domain FROM postlog").all();
    db.close();
    assertEquals(rows.map((r) => [r.account, r.domain]), [[
      "alice",
      "example.org",
    ]]);
  }));

Deno.test("cvm-sqlite: a missing database file is IO and is not created", () =>
  withSample(async (path, env) => {
    const missing = `${path}.missing`;
    const out = await ask(["bob", "", "secret"], {
      ...env,
      CVM_SQLITE_DB: missing,
    });
    assertEquals(out.code, 4);
    assert(
      !(() => {
        try {
          Deno.statSync(missing);
          return true;
        } catch {
          return false;
        }
      })(),
    );
  }));

Deno.test("cvm-sqlite: no $CVM_SQLITE_DB is CONFIG naming it", async () => {
  await ensureDist();
  const out = await ask(["bob", "", "secret"], {});
  assertEquals(out.code, 6);
  assert(out.stderr.includes("$CVM_SQLITE_DB"), out.stderr);
});

Deno.test({
  name:
    "cvm-sqlite-local: serves from a kept-open file and notices when the file is replaced",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSample(async (path, env) => {
      const socket = `${path}.sock`;
      const server = await startCaptured(`${dist}/cvm-sqlite-local`, [
        socket,
      ], env);
      try {
        const local = `cvm-local:${socket}`;
        assertEquals((await ask(["bob", "", "secret"], {}, local)).code, 0);
        // A new file renamed over the old one, as an admin's script would.
        const next = `${path}.new`;
        Deno.copyFileSync(path, next);
        const db = new DatabaseSync(next);
        db.exec(
          "UPDATE accounts SET password = 'changed' WHERE username = 'bob'",
        );
        db.close();
        Deno.renameSync(next, path);
        assertEquals((await ask(["bob", "", "secret"], {}, local)).code, 100);
        assertEquals((await ask(["bob", "", "changed"], {}, local)).code, 0);
        await server.waitForLines(4);
        assertEquals(server.log.slice(1), ["+ bob", "- bob", "+ bob"]);
      } finally {
        assertEquals(await server.stop(), 0);
      }
    }),
});

Deno.test("cvm-sqlite-local: no $CVM_SQLITE_DB exits CONFIG naming it, before listening", async () => {
  await ensureDist();
  const dir = Deno.makeTempDirSync({ prefix: "cvm-sqlite-" });
  try {
    const out = await runWith(`${dist}/cvm-sqlite-local`, [`${dir}/s`], {});
    assertEquals(out.code, 6);
    assertEquals(
      out.stderr,
      "cvm-sqlite-local: Fatal: $CVM_SQLITE_DB is not set\n",
    );
    assertEquals(out.stdout, "");
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
