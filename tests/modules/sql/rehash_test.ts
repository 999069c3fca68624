/**
 * Upgrade on login in the SQL modules: `$CVM_REHASH` with the module's
 * `…_REHASHQ`, whose `$account`, `$domain` and `$hash` are bound values,
 * against the shared PostgreSQL and MariaDB (a schema or database of the
 * test's own) and SQLite.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dist, ensureDist } from "../../_helpers.ts";
import {
  createMyDatabase,
  createPgSchema,
  MY,
  PG,
  QUERY12,
  REF,
  runWith,
  serviceAvailable,
  startCaptured,
} from "./_helpers.ts";
import { verifyPassword } from "../../../modules/passwords/mod.ts";

const pgUp = await serviceAvailable("PostgreSQL", PG.port);
const myUp = await serviceAvailable("MariaDB", MY.port);
const TESTCLIENT = `${REF}/cvm-testclient`;
const enc = new TextEncoder();

/** npm clients keep timers and sockets. */
const loose = { sanitizeOps: false, sanitizeResources: false };

const ROWS = [
  {
    username: "bob",
    domain: "example.com",
    password: "{PLAIN}it's pw",
    userid: "1000",
    groupid: "100",
    directory: "/home/bob",
  },
  {
    username: "bob",
    domain: "other.org",
    password: "{PLAIN}other pw",
    userid: "1001",
    groupid: "100",
    directory: "/home/bob2",
  },
];

interface Db {
  env: Record<string, string>;
  prefix: string;
  module: string;
  /** bob's stored passwords, by domain. */
  passwords(): Promise<Record<string, string>>;
  drop(): Promise<void>;
}

async function pg(): Promise<Db> {
  const schema = await createPgSchema(ROWS);
  return {
    env: schema.env,
    prefix: "CVM_PGSQL",
    module: "cvm-pgsql",
    async passwords() {
      const rows = await schema.exec(
        "SELECT domain, password FROM accounts ORDER BY domain",
      );
      return Object.fromEntries(rows.map(([d, p]) => [d, p])) as Record<
        string,
        string
      >;
    },
    drop: () => schema.drop(),
  };
}

async function my(): Promise<Db> {
  const db = await createMyDatabase(ROWS);
  return {
    env: db.env,
    prefix: "CVM_MYSQL",
    module: "cvm-mysql",
    async passwords() {
      const rows = await db.exec(
        "SELECT domain, password FROM accounts ORDER BY domain",
      ) as unknown as { domain: string; password: string }[];
      return Object.fromEntries(
        rows.map((r) =>
          Array.isArray(r) ? [r[0], r[1]] : [r.domain, r.password]
        ),
      );
    },
    drop: () => db.drop(),
  };
}

function sqlite(): Db {
  const dir = Deno.makeTempDirSync({ prefix: "cvm-rehash-" });
  const path = `${dir}/accounts.db`;
  const db = new DatabaseSync(path);
  db.exec(
    "CREATE TABLE accounts (username text, domain text, password text, userid text, groupid text, directory text, realname text, shell text, groupname text, sys_username text, sys_directory text, mailbox text)",
  );
  for (const r of ROWS) {
    db.prepare(
      "INSERT INTO accounts (username, domain, password, userid, groupid, directory) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(r.username, r.domain, r.password, r.userid, r.groupid, r.directory);
  }
  return {
    env: { CVM_SQLITE_DB: path },
    prefix: "CVM_SQLITE",
    module: "cvm-sqlite",
    passwords() {
      const rows = db.prepare(
        "SELECT domain, password FROM accounts ORDER BY domain",
      ).all() as { domain: string; password: string }[];
      return Promise.resolve(
        Object.fromEntries(rows.map((r) => [r.domain, r.password])),
      );
    },
    drop() {
      db.close();
      Deno.removeSync(dir, { recursive: true });
      return Promise.resolve();
    },
  };
}

const UPDATE =
  "UPDATE accounts SET password=$hash WHERE username=$account AND domain=$domain";

function settings(db: Db, extra: Record<string, string> = {}) {
  return {
    ...db.env,
    [`${db.prefix}_QUERY`]: QUERY12,
    [`${db.prefix}_PWCMP`]: "scheme",
    [`${db.prefix}_REHASHQ`]: UPDATE,
    CVM_REHASH: "SSHA512",
    ...extra,
  };
}

const dbs: Array<[string, boolean, () => Promise<Db> | Db]> = [
  ["cvm-pgsql", pgUp, pg],
  ["cvm-mysql", myUp, my],
  ["cvm-sqlite", true, sqlite],
];

for (const [name, up, make] of dbs) {
  Deno.test({
    name:
      `${name}: CVM_REHASH runs the REHASHQ with bound $account, $domain and $hash after one login; the next login uses the new hash`,
    ignore: !up,
    ...loose,
    fn: async () => {
      await ensureDist();
      const db = await make();
      try {
        const env = settings(db);
        const module = `${dist}/${db.module}`;
        const wrong = await runWith(TESTCLIENT, [
          module,
          "bob@example.com",
          "",
          "nope",
        ], env);
        assert.equal(wrong.code, 100);
        assert.equal((await db.passwords())["example.com"], "{PLAIN}it's pw");
        const first = await runWith(TESTCLIENT, [
          module,
          "bob@example.com",
          "",
          "it's pw",
        ], env);
        assert.equal(first.code, 0, first.stderr);
        const after = await db.passwords();
        assert.match(after["example.com"], /^\{SSHA512\}/);
        assert.ok(
          await verifyPassword(after["example.com"], enc.encode("it's pw")),
        );
        assert.equal(after["other.org"], "{PLAIN}other pw", "only its own row");
        const second = await runWith(TESTCLIENT, [
          module,
          "bob@example.com",
          "",
          "it's pw",
        ], env);
        assert.equal(second.code, 0, second.stderr);
        assert.deepEqual(await db.passwords(), after, "already in the scheme");
      } finally {
        await db.drop();
      }
    },
  });

  Deno.test({
    name: `${name}: concurrent logins with CVM_REHASH leave a valid hash`,
    ignore: !up,
    ...loose,
    fn: async () => {
      await ensureDist();
      const db = await make();
      const dir = Deno.makeTempDirSync({ prefix: "cvm-rehash-" });
      const server = await startCaptured(`${dist}/${db.module}-local`, [
        `${dir}/s.sock`,
      ], settings(db));
      try {
        const results = await Promise.all(
          Array.from(
            { length: 10 },
            () =>
              runWith(TESTCLIENT, [
                `cvm-local:${dir}/s.sock`,
                "bob",
                "other.org",
                "other pw",
              ], {}),
          ),
        );
        for (const r of results) assert.equal(r.code, 0, r.stderr);
        const stored = (await db.passwords())["other.org"];
        assert.match(stored, /^\{SSHA512\}/);
        assert.ok(await verifyPassword(stored, enc.encode("other pw")));
        assert.equal(server.stderr(), "");
      } finally {
        await server.stop();
        Deno.removeSync(dir, { recursive: true });
        await db.drop();
      }
    },
  });

  Deno.test({
    name:
      `${name}: a REHASHQ that fails never fails the login and is said on stderr without the password; no REHASHQ is a configuration error`,
    ignore: !up,
    ...loose,
    fn: async () => {
      await ensureDist();
      const db = await make();
      try {
        const module = `${dist}/${db.module}`;
        const failing = settings(db, {
          [`${db.prefix}_REHASHQ`]: "UPDATE no_such_table SET password=$hash",
        });
        const r = await runWith(TESTCLIENT, [
          module,
          "bob@example.com",
          "",
          "it's pw",
        ], failing);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `^${db.module}: CVM_REHASH: the new hash was not stored \\(the login stands\\): `,
          ),
        );
        assert.ok(!r.stderr.includes("it's pw"));
        assert.ok(!r.stderr.includes("{SSHA512}"));
        assert.equal((await db.passwords())["example.com"], "{PLAIN}it's pw");
        const none = settings(db, { [`${db.prefix}_REHASHQ`]: "" });
        const missing = await runWith(TESTCLIENT, [
          module,
          "bob@example.com",
          "",
          "it's pw",
        ], none);
        assert.equal(missing.code, 6);
        assert.match(missing.stderr, new RegExp(`\\$${db.prefix}_REHASHQ`));
      } finally {
        await db.drop();
      }
    },
  });
}
