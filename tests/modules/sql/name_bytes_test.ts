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
import { dist } from "../../_helpers.ts";
import {
  type AccountRow,
  MARIADB,
  POSTGRESQL,
  QUERY12,
  REF,
  referenceAvailable,
  serverAvailable,
  type SqlServer,
  withDatabase,
  withSqliteAccounts,
} from "./_helpers.ts";
import { askCommand, rawRequest, shown } from "../_raw_names.ts";

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

/** What each database server's reference answers for a name that is not UTF-8. */
const SERVERS: [SqlServer, number, string][] = [
  [POSTGRESQL, 4, "; the reference answers IO"],
  [MARIADB, 100, ", as the reference rejects it"],
];

for (const [server, referenceInvalid, reference] of SERVERS) {
  Deno.test({
    name:
      `cvm-${server.module}: a name that is not UTF-8 is rejected (100) before any query${reference}`,
    ignore: !(await serverAvailable(server)),
    ...options,
    fn: (t) =>
      withDatabase(server, ROWS, (db) =>
        check(
          t,
          `cvm-${server.module}`,
          { ...db.env, [`${server.prefix}_QUERY`]: QUERY12 },
          { [server.connection.port]: String(closedPort()) },
          referenceInvalid,
        )),
  });
}

Deno.test({
  name:
    "cvm-sqlite: a name that is not UTF-8 is rejected (100) before any query",
  ...options,
  fn: (t) =>
    // Debian ships no cvm-sqlite; a missing database file is IO.
    withSqliteAccounts(ROWS, (path, dir) =>
      check(t, "cvm-sqlite", {
        CVM_SQLITE_DB: path,
        CVM_SQLITE_QUERY: QUERY12,
      }, { CVM_SQLITE_DB: `${dir}/missing.db` })),
});
