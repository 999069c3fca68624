/**
 * SIGHUP and the SQL modules: a `cvm-pgsql-local` or `cvm-mysql-local`
 * server drops its database connections and opens new ones (seen from the
 * database's own list of sessions), logs `Reloading.` and keeps serving.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { dist, type Server } from "../../_helpers.ts";
import {
  MARIADB,
  POSTGRESQL,
  QUERY12,
  runWith,
  serverAvailable,
  type SqlServer,
  startCaptured,
  type TestDatabase,
  uniqueName,
  until,
  withDatabase,
} from "./_helpers.ts";
import { accountRows } from "./_scenarios.ts";

const pgUp = await serverAvailable(POSTGRESQL);
const myUp = await serverAvailable(MARIADB);
const ROWS = accountRows("*");

/**
 * Logs in, notes the server's sessions, sends SIGHUP, and checks that the
 * old sessions went away and a new one serves the next login.
 */
async function reconnects(
  server: Server,
  socket: string,
  sessions: () => Promise<string[]>,
): Promise<void> {
  const login = () =>
    runWith(`${dist}/cvm-testclient`, [
      `cvm-local:${socket}`,
      "bob",
      "",
      "secret",
    ], {});
  assertEquals((await login()).code, 0);
  const before = await sessions();
  assert.ok(before.length > 0, "the server holds a connection");

  Deno.kill(server.pid, "SIGHUP");
  await server.waitFor(/^Reloading\.$/);
  await until(
    async () => (await sessions()).every((id) => !before.includes(id)),
    400,
  );
  assert.ok(server.running(), "alive after SIGHUP");

  assertEquals((await login()).code, 0);
  const after = await sessions();
  assert.ok(after.length > 0, "a new connection serves the next login");
  assertEquals(after.filter((id) => before.includes(id)), []);

  assertEquals(await server.stop(), 0);
  assertEquals(server.log, [
    "Starting.",
    "+ bob",
    "Reloading.",
    "+ bob",
    "Stopping.",
  ]);
}

const options = { sanitizeOps: false, sanitizeResources: false };

/** A database server, and how to list its module's sessions on it. */
interface ReloadServer {
  /** The server. */
  server: SqlServer;
  /** Whether it is up. */
  up: boolean;
  /** Environment that marks the module's sessions with `tag`. */
  env(tag: string): Record<string, string>;
  /** The ids of the module's sessions (not the test's own). */
  sessions(db: TestDatabase, tag: string): Promise<unknown[][]>;
}

const SERVERS: ReloadServer[] = [
  {
    server: POSTGRESQL,
    up: pgUp,
    env: (tag) => ({ PGAPPNAME: tag }),
    sessions: (db, tag) =>
      db.exec(
        "SELECT pid::text FROM pg_stat_activity WHERE application_name = $1",
        [tag],
      ),
  },
  {
    server: MARIADB,
    up: myUp,
    env: () => ({}),
    sessions: (db) =>
      db.exec(
        "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
        [db.name],
      ),
  },
];

for (const { server, up, env, sessions } of SERVERS) {
  Deno.test({
    name:
      `SIGHUP: cvm-${server.module}-local drops its ${server.label} connections, reconnects and keeps serving`,
    ignore: !up,
    ...options,
    fn: () =>
      withDatabase(server, ROWS, async (db) => {
        const dir = Deno.makeTempDirSync({ prefix: "cvm-reload-" });
        const tag = uniqueName("cvmreload");
        let local: Server | undefined;
        try {
          local = await startCaptured(
            `${dist}/cvm-${server.module}-local`,
            [`${dir}/s`],
            { ...db.env, ...env(tag), [`${server.prefix}_QUERY`]: QUERY12 },
          );
          await reconnects(
            local,
            `${dir}/s`,
            async () => (await sessions(db, tag)).map((row) => String(row[0])),
          );
        } finally {
          await local?.stop();
          Deno.removeSync(dir, { recursive: true });
        }
      }),
  });
}
