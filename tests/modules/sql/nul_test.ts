/**
 * An account or domain holding a NUL byte is a rejection (100) in every SQL
 * module, answered before any query: PostgreSQL refuses such a bound value,
 * and answering IO would let a client turn a rejection into "try later" in
 * a chain. Compared byte for byte with Debian's cvm-pgsql and cvm-mysql
 * (which escape the NUL into the SQL text and find nothing), in command
 * mode and in a local server.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dist, run, tempDir } from "../../_helpers.ts";
import {
  MARIADB,
  POSTGRESQL,
  QUERY12,
  REF,
  referenceAvailable,
  serverAvailable,
  startCaptured,
  withDatabase,
  withSqliteAccounts,
} from "./_helpers.ts";
import { accountRows } from "./_scenarios.ts";
import { authenticate } from "../../../clients/client.ts";
import { encodeRequestV2, type Tagged } from "../../../protocol/mod.ts";

const pgUp = await serverAvailable(POSTGRESQL);
const myUp = await serverAvailable(MARIADB);
const ROWS = accountRows("*");
const encoder = new TextEncoder();
const options = { sanitizeOps: false, sanitizeResources: false };

/** Account, domain (undefined: none sent) and password, each possibly with a NUL. */
const CASES: Array<[string, string | undefined, string]> = [
  ["bob\0", undefined, "secret"],
  ["bob\0x", undefined, "secret"],
  ["\0", undefined, "secret"],
  ["bob", "\0", "secret"],
  ["alice", "example.com\0", "pw-com"],
  ["alice\0", "example.com", "pw-com"],
];

function credentials(
  [account, domain, password]: [string, string | undefined, string],
): Tagged[] {
  return [
    { type: 1, value: encoder.encode(account) },
    ...(domain === undefined
      ? []
      : [{ type: 2, value: encoder.encode(domain) }]),
    { type: 3, value: encoder.encode(password) },
  ];
}

function request(c: [string, string | undefined, string]): Uint8Array {
  return encodeRequestV2(new Uint8Array([7, 1, 2, 3]), credentials(c));
}

function shown(c: [string, string | undefined, string]): string {
  return JSON.stringify(c.slice(0, 2));
}

/** Runs a module in command mode on one raw request: its status and reply. */
async function ask(
  module: string,
  env: Record<string, string>,
  bytes: Uint8Array,
): Promise<{ code: number; reply: number[]; stderr: string }> {
  const out = await run(module, [], { env, stdin: bytes });
  return {
    code: out.code,
    reply: Array.from(out.stdoutBytes),
    stderr: out.stderr,
  };
}

/** The answer to a request for a known account: a rejection, no facts. */
const REJECTED = [100, 4, 7, 1, 2, 3, 0];

/** Every NUL case, in both modes, answers REJECTED, and as the reference's module does. */
async function sameAsReference(
  t: Deno.TestContext,
  name: string,
  env: Record<string, string>,
  hasReference = true,
): Promise<void> {
  const ours = `${dist}/${name}`;
  const theirs = hasReference && referenceAvailable(name)
    ? `${REF}/${name}`
    : undefined;
  // The same accounts without a NUL are found: the NUL is what rejects.
  const plain = await ask(ours, env, request(["bob", undefined, "secret"]));
  assertEquals(plain.code, 0, plain.stderr);
  for (const lookup of [false, true]) {
    const extra: Record<string, string> = lookup
      ? { CVM_LOOKUP_SECRET: "" }
      : {};
    for (const c of CASES) {
      await t.step(`${lookup ? "lookup mode " : ""}${shown(c)}`, async () => {
        const got = await ask(ours, { ...env, ...extra }, request(c));
        assertEquals({ code: got.code, reply: got.reply }, {
          code: 100,
          reply: REJECTED,
        }, got.stderr);
        if (theirs === undefined) return;
        const want = await ask(theirs, { ...env, ...extra }, request(c));
        assertEquals(
          { code: got.code, reply: got.reply },
          { code: want.code, reply: want.reply },
        );
      });
    }
  }
}

for (const [server, up] of [[POSTGRESQL, pgUp], [MARIADB, myUp]] as const) {
  Deno.test({
    name:
      `cvm-${server.module}: an account or domain with a NUL is rejected (100) before any query, exactly as the reference`,
    ignore: !up,
    ...options,
    fn: (t) =>
      withDatabase(
        server,
        ROWS,
        (db) =>
          sameAsReference(t, `cvm-${server.module}`, {
            ...db.env,
            [`${server.prefix}_QUERY`]: QUERY12,
          }),
      ),
  });
}

Deno.test({
  name:
    "cvm-sqlite: an account or domain with a NUL is rejected (100) before any query",
  ...options,
  fn: (t) =>
    withSqliteAccounts(ROWS, (path) =>
      sameAsReference(t, "cvm-sqlite", {
        CVM_SQLITE_DB: path,
        CVM_SQLITE_QUERY: QUERY12,
      }, false)), // Debian ships no cvm-sqlite
});

Deno.test({
  name:
    "cvm-pgsql-local: an account with a NUL is rejected (100, logged -), never IO, and the server answers the next request",
  ignore: !pgUp,
  ...options,
  fn: () =>
    withDatabase(POSTGRESQL, ROWS, async (db) => {
      const dir = tempDir();
      const socket = `${dir.path}/s`;
      const server = await startCaptured(`${dist}/cvm-pgsql-local`, [socket], {
        ...db.env,
        CVM_PGSQL_QUERY: QUERY12,
      });
      try {
        const module = `cvm-local:${socket}`;
        const nul = await authenticate(
          module,
          credentials(["bob\0", undefined, "secret"]),
        );
        assertEquals(nul.code, 100);
        const next = await authenticate(
          module,
          credentials(["bob", undefined, "secret"]),
        );
        assertEquals(next.code, 0);
        await server.waitForLines(3);
        assertEquals(server.log.slice(1, 3), ["- bob?", "+ bob"]);
      } finally {
        await server.stop();
        dir.cleanup();
      }
    }),
});
