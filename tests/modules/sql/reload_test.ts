/**
 * SIGHUP and the SQL modules: a `cvm-pgsql-local` or `cvm-mysql-local`
 * server drops its database connections and opens new ones (seen from the
 * database's own list of sessions), logs `Reloading.` and keeps serving.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { dist, ensureDist, type Server } from "../../_helpers.ts";
import {
  createMyDatabase,
  createPgSchema,
  MY,
  PG,
  QUERY12,
  runWith,
  serviceAvailable,
  startCaptured,
  uniqueName,
} from "./_helpers.ts";
import { accountRows } from "./_scenarios.ts";

const pgUp = await serviceAvailable("PostgreSQL", PG.port);
const myUp = await serviceAvailable("MariaDB", MY.port);
const ROWS = accountRows("*");

/** Polls until `check` is true (bounded: gives up after `tries`). */
async function until(check: () => Promise<boolean>, tries = 400) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached");
}

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
  await until(async () =>
    (await sessions()).every((id) => !before.includes(id))
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

Deno.test({
  name:
    "SIGHUP: cvm-pgsql-local drops its PostgreSQL connections, reconnects and keeps serving",
  ignore: !pgUp,
  ...options,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    const dir = Deno.makeTempDirSync({ prefix: "cvm-reload-" });
    const app = uniqueName("cvmreload");
    let server: Server | undefined;
    try {
      server = await startCaptured(`${dist}/cvm-pgsql-local`, [`${dir}/s`], {
        ...schema.env,
        PGAPPNAME: app,
        CVM_PGSQL_QUERY: QUERY12,
      });
      await reconnects(server, `${dir}/s`, async () =>
        (await schema.exec(
          "SELECT pid::text FROM pg_stat_activity WHERE application_name = $1",
          [app],
        )).map((row) => String(row[0])));
    } finally {
      await server?.stop();
      await schema.drop();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "SIGHUP: cvm-mysql-local drops its MariaDB connections, reconnects and keeps serving",
  ignore: !myUp,
  ...options,
  fn: async () => {
    await ensureDist();
    const db = await createMyDatabase(ROWS);
    const dir = Deno.makeTempDirSync({ prefix: "cvm-reload-" });
    let server: Server | undefined;
    try {
      server = await startCaptured(`${dist}/cvm-mysql-local`, [`${dir}/s`], {
        ...db.env,
        CVM_MYSQL_QUERY: QUERY12,
      });
      await reconnects(server, `${dir}/s`, async () =>
        (await db.exec(
          "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
          [db.name],
        )).map((row) => String(row[0])));
    } finally {
      await server?.stop();
      await db.drop();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
