/**
 * An account or domain that is not UTF-8 is a rejection (100) in every SQL
 * module, answered before any query. Bound as text, each invalid byte would
 * go to the database as U+FFFD, so `jos\xe9` and `jos\xff` would both find
 * the row of `jos\uFFFD` and log in with its password: one account under
 * many names. Debian's cvm-mysql finds nothing for such a name (100, the
 * same reply as ours); Debian's cvm-pgsql answers IO (4), since PostgreSQL
 * refuses the bytes, which in a chain turns a rejection into "try later"
 * (a deliberate difference, as for a NUL). UTF-8 names, U+FFFD itself
 * included, are found as before, exactly as the reference finds them.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dist, ensureDist, tempDir } from "../../_helpers.ts";
import {
  type AccountRow,
  createMyDatabase,
  createPgSchema,
  MY,
  PG,
  QUERY12,
  REF,
  referenceAvailable,
  serviceAvailable,
} from "./_helpers.ts";
import { askCommand, rawRequest, shown } from "../_raw_names.ts";

const pgUp = await serviceAvailable("PostgreSQL", PG.port);
const myUp = await serviceAvailable("MariaDB", MY.port);
const options = { sanitizeOps: false, sanitizeResources: false };

function row(username: string, domain = ""): AccountRow {
  return {
    username,
    domain,
    password: "pw",
    userid: "1005",
    groupid: "100",
    directory: `/home/${username}`,
  };
}

/** U+FFFD, é and a plain name, stored as UTF-8 text. */
const ROWS = [row("jos\uFFFD"), row("jos\u00e9"), row("bob", "ex\uFFFD")];

/** Account and domain (byte strings; undefined: none sent), with the password `pw`. */
type Case = [string, string | undefined];

/** Not UTF-8: rejected unasked. */
const INVALID: Case[] = [
  ["jos\xe9", undefined],
  ["jos\xff", undefined],
  ["jos\xed\xa0\x80", undefined], // an encoded surrogate
  ["bob", "ex\xe9"],
];

/** UTF-8: looked up, and found. */
const VALID: Case[] = [
  ["jos\xef\xbf\xbd", undefined],
  ["jos\xc3\xa9", undefined],
  ["bob", "ex\xef\xbf\xbd"],
];

/** The answer to a rejected request: code 100, the random bytes, no facts. */
const REJECTED = [100, 4, 7, 1, 2, 3, 0];

function request([account, domain]: Case): Uint8Array {
  return rawRequest(account, "pw", domain);
}

function name([account, domain]: Case): string {
  return domain === undefined
    ? shown(account)
    : `${shown(account)}@${shown(domain)}`;
}

/** A TCP port on loopback that nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Ours rejects every INVALID case (REJECTED) and finds every VALID one;
 * the reference's code is `referenceInvalid` for INVALID and the same
 * reply as ours for VALID. With the database out of reach, INVALID is
 * still REJECTED (no query was tried) while VALID is IO.
 */
async function check(
  t: Deno.TestContext,
  module: string,
  env: Record<string, string>,
  unreachable: Record<string, string>,
  referenceInvalid?: number,
): Promise<void> {
  const ours = `${dist}/${module}`;
  const theirs = referenceInvalid !== undefined && referenceAvailable(module)
    ? `${REF}/${module}`
    : undefined;
  for (const c of INVALID) {
    await t.step(`${name(c)} is rejected unasked`, async () => {
      const got = await askCommand(ours, env, request(c));
      assertEquals(got, { code: 100, reply: REJECTED });
      const down = await askCommand(
        ours,
        { ...env, ...unreachable },
        request(c),
      );
      assertEquals(down, { code: 100, reply: REJECTED }, "no query was tried");
      if (theirs === undefined) return;
      const want = await askCommand(theirs, env, request(c));
      assertEquals(want.code, referenceInvalid);
    });
  }
  for (const c of VALID) {
    await t.step(`${name(c)} is found`, async () => {
      const got = await askCommand(ours, env, request(c));
      assertEquals(got.code, 0);
      const down = await askCommand(
        ours,
        { ...env, ...unreachable },
        request(c),
      );
      assertEquals(down.code, 4, "the database is asked");
      if (theirs === undefined) return;
      assertEquals(got, await askCommand(theirs, env, request(c)));
    });
  }
}

Deno.test({
  name:
    "cvm-pgsql: a name that is not UTF-8 is rejected (100) before any query; the reference answers IO",
  ignore: !pgUp,
  ...options,
  fn: async (t) => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    try {
      await check(
        t,
        "cvm-pgsql",
        { ...schema.env, CVM_PGSQL_QUERY: QUERY12 },
        { PGPORT: String(closedPort()) },
        4,
      );
    } finally {
      await schema.drop();
    }
  },
});

Deno.test({
  name:
    "cvm-mysql: a name that is not UTF-8 is rejected (100) before any query, as the reference rejects it",
  ignore: !myUp,
  ...options,
  fn: async (t) => {
    await ensureDist();
    const db = await createMyDatabase(ROWS);
    try {
      await check(
        t,
        "cvm-mysql",
        { ...db.env, CVM_MYSQL_QUERY: QUERY12 },
        { CVM_MYSQL_PORT: String(closedPort()) },
        100,
      );
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "cvm-sqlite: a name that is not UTF-8 is rejected (100) before any query",
  ...options,
  fn: async (t) => {
    await ensureDist();
    const dir = tempDir();
    try {
      const path = `${dir.path}/accounts.db`;
      const db = new DatabaseSync(path);
      db.exec(
        "CREATE TABLE accounts (password, username, userid, groupid, directory, realname, shell, groupname, domain, sys_username, sys_directory, mailbox)",
      );
      const insert = db.prepare(
        "INSERT INTO accounts (password, username, userid, groupid, directory, domain) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const r of ROWS) {
        insert.run(
          r.password,
          r.username,
          r.userid,
          r.groupid,
          r.directory,
          r.domain,
        );
      }
      db.close();
      // Debian ships no cvm-sqlite; a missing database file is IO.
      await check(t, "cvm-sqlite", {
        CVM_SQLITE_DB: path,
        CVM_SQLITE_QUERY: QUERY12,
      }, { CVM_SQLITE_DB: `${dir.path}/missing.db` });
    } finally {
      dir.cleanup();
    }
  },
});
