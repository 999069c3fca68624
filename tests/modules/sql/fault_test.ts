/**
 * Faults: the database goes away (a loopback proxy the test stops, so the
 * shared server keeps running) while a `cvm-pgsql-local` or
 * `cvm-mysql-local` server runs. Requests answer IO and are logged `?`,
 * the server stays up, and once the database is back requests succeed
 * again without restarting it; a connection cut in the middle of a query
 * is IO too, and the next request reconnects. A database that hangs
 * (connections accepted, nothing forwarded) is IO once `$CVM_SQL_TIMEOUT`
 * passes, and the module answers again once it heals.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { authenticate } from "../../../clients/client.ts";
import { CredentialType } from "../../../protocol/mod.ts";
import { dist, ensureDist } from "../../_helpers.ts";
import {
  type CapturedServer,
  createMyDatabase,
  createPgSchema,
  MY,
  type Outcome,
  PG,
  QUERY12,
  REF,
  referenceAvailable,
  runWith,
  serviceAvailable,
  startCaptured,
  uniqueName,
} from "./_helpers.ts";
import { startProxy, type TcpProxy } from "./_proxy.ts";
import { accountRows } from "./_scenarios.ts";

const pgUp = await serviceAvailable("PostgreSQL", PG.port);
const myUp = await serviceAvailable("MariaDB", MY.port);
const TESTCLIENT = referenceAvailable("cvm-testclient")
  ? `${REF}/cvm-testclient`
  : `${dist}/cvm-testclient`;
const ROWS = accountRows("*");
const SECRET = "hunter2-never-printed";

function ask(socket: string, args: string[]): Promise<Outcome> {
  return runWith(TESTCLIENT, [`cvm-local:${socket}`, ...args], {});
}

/** Polls until `check` is true (bounded: gives up after `tries`). */
async function until(check: () => Promise<boolean>, tries = 200) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached");
}

interface Rig {
  proxy: TcpProxy;
  server: CapturedServer;
  socket: string;
  /** Whether a query of ours is running on the server now. */
  sleeping(): Promise<boolean>;
}

/** The outage scenario, the same for both databases. */
async function outage(rig: Rig): Promise<void> {
  const { proxy, server, socket } = rig;
  const okBefore = await ask(socket, ["bob", "", "secret"]);
  assertEquals(okBefore.code, 0, okBefore.stderr);
  await server.waitFor(/^\+ bob$/);

  await proxy.stop();
  for (let i = 0; i < 3; i++) {
    const down = await ask(socket, ["bob", "", "secret"]);
    assertEquals(down.code, 4, "a dead database is IO, never a rejection");
    assert(down.stderr.includes("error #4 (Input/Output error)"));
  }
  await server.waitForLines(5);
  assertEquals(server.log.filter((l) => l === "? bob").length, 3);
  assert(server.running(), "the server stays up");

  proxy.start();
  const okAfter = await ask(socket, ["bob", "", "secret"]);
  assertEquals(okAfter.code, 0, "the next request reconnects by itself");
  await server.waitForLines(6);
  assertEquals(server.log.filter((l) => l === "+ bob").length, 2);
  assertEquals(server.log.filter((l) => l === "Starting.").length, 1);
}

/** A query cut in the middle: IO for it, success for the next. */
async function midQuery(rig: Rig): Promise<void> {
  const { proxy, server, socket } = rig;
  assertEquals((await ask(socket, ["bob", "", "secret"])).code, 0);
  const slow = ask(socket, ["nul", "", "secret"]);
  await until(rig.sleeping);
  proxy.cut();
  assertEquals((await slow).code, 4, "a query cut short is IO");
  await server.waitFor(/^\? nul$/);
  const next = await ask(socket, ["bob", "", "secret"]);
  assertEquals(next.code, 0, "the next request reconnects by itself");
  assert(server.running());
}

/**
 * Asks for bob in-process, giving up after a generous bound so that a
 * module that never answers fails the test instead of hanging it.
 */
async function askBounded(socket: string): Promise<number | "no answer"> {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<"no answer">((resolve) => {
    timer = setTimeout(() => resolve("no answer"), 60_000);
  });
  try {
    const answer = authenticate(`cvm-local:${socket}`, [
      { type: CredentialType.ACCOUNT, value: encoder.encode("bob") },
      { type: CredentialType.PASSWORD, value: encoder.encode("secret") },
    ], { env: {} });
    return await Promise.race([answer.then((r) => r.code), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The database hangs: IO past the deadline, success again once it heals. */
async function hang(rig: Rig): Promise<void> {
  const { proxy, server, socket } = rig;
  assertEquals(await askBounded(socket), 0);
  proxy.hang();
  try {
    // The first on the kept connection, the second on a new one.
    for (let i = 0; i < 2; i++) {
      assertEquals(await askBounded(socket), 4, "a hung database is IO");
    }
    await server.waitForLines(4);
    assertEquals(server.log.filter((l) => l === "? bob").length, 2);
    assert(server.running(), "the server stays up");
  } finally {
    proxy.heal(); // also when it failed: what is held can end, and the server stop
  }
  assertEquals(await askBounded(socket), 0, "it reconnects by itself");
  await server.waitForLines(5);
  assertEquals(server.log.filter((l) => l === "+ bob").length, 2);
  assertEquals(server.log.filter((l) => l === "Starting.").length, 1);
}

/** Checks no secret reached the log or stderr, and stops everything. */
async function finish(rig: Rig | undefined, cleanup: () => Promise<void>) {
  try {
    if (rig) {
      const code = await rig.server.stop();
      assertEquals(code, 0);
      assert(!rig.server.log.join("\n").includes(SECRET));
      assert(!rig.server.stderr().includes(SECRET));
      await rig.proxy.close();
    }
  } finally {
    await cleanup();
  }
}

/** A slow query: `nul` sleeps two seconds on the server. */
const PG_SLOW_QUERY = QUERY12 +
  " AND (username <> 'nul' OR (SELECT true FROM pg_sleep(2)))";
const MY_SLOW_QUERY = QUERY12 + " AND (username <> 'nul' OR SLEEP(2) = 0)";

async function pgRig(query: string, extra: Record<string, string> = {}) {
  await ensureDist();
  const schema = await createPgSchema(ROWS);
  const proxy = startProxy(PG.port);
  const dir = Deno.makeTempDirSync({ prefix: "cvm-fault-" });
  const socket = `${dir}/s`;
  const app = uniqueName("cvmfault");
  const cleanup = async () => {
    await proxy.close();
    await schema.drop();
    Deno.removeSync(dir, { recursive: true });
  };
  try {
    const server = await startCaptured(`${dist}/cvm-pgsql-local`, [socket], {
      ...schema.env,
      PGPORT: String(proxy.port),
      PGPASSWORD: SECRET,
      PGAPPNAME: app,
      CVM_PGSQL_QUERY: query,
      ...extra,
    });
    const rig: Rig = {
      proxy,
      server,
      socket,
      sleeping: async () => {
        const rows = await schema.exec(
          "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'",
          [app],
        );
        return Number(rows[0][0]) > 0;
      },
    };
    return { rig, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function myRig(query: string, extra: Record<string, string> = {}) {
  await ensureDist();
  const db = await createMyDatabase(ROWS);
  const proxy = startProxy(MY.port);
  const dir = Deno.makeTempDirSync({ prefix: "cvm-fault-" });
  const socket = `${dir}/s`;
  const cleanup = async () => {
    await proxy.close();
    await db.drop();
    Deno.removeSync(dir, { recursive: true });
  };
  try {
    const server = await startCaptured(`${dist}/cvm-mysql-local`, [socket], {
      ...db.env,
      CVM_MYSQL_PORT: String(proxy.port),
      CVM_MYSQL_QUERY: query,
      ...extra,
    });
    const rig: Rig = {
      proxy,
      server,
      socket,
      sleeping: async () => {
        const rows = await db.exec(
          "SELECT count(*) FROM information_schema.processlist WHERE db = ? AND info LIKE '%SLEEP(2)%' AND id <> CONNECTION_ID()",
          [db.name],
        );
        return Number(rows[0][0]) > 0;
      },
    };
    return { rig, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

const options = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "cvm-pgsql-local: while PostgreSQL is unreachable requests answer IO (logged ?), and succeed again once it is back, without a restart",
  ignore: !pgUp,
  ...options,
  fn: async () => {
    const { rig, cleanup } = await pgRig(QUERY12);
    try {
      await outage(rig);
    } finally {
      await finish(rig, cleanup);
    }
  },
});

Deno.test({
  name:
    "cvm-pgsql-local: a connection cut in the middle of a query is IO, and the next request reconnects",
  ignore: !pgUp,
  ...options,
  fn: async () => {
    const { rig, cleanup } = await pgRig(PG_SLOW_QUERY);
    try {
      await midQuery(rig);
    } finally {
      await finish(rig, cleanup);
    }
  },
});

Deno.test({
  name:
    "cvm-mysql-local: while MariaDB is unreachable requests answer IO (logged ?), and succeed again once it is back, without a restart",
  ignore: !myUp,
  ...options,
  fn: async () => {
    const { rig, cleanup } = await myRig(QUERY12);
    try {
      await outage(rig);
    } finally {
      await finish(rig, cleanup);
    }
  },
});

Deno.test({
  name:
    "cvm-mysql-local: a connection cut in the middle of a query is IO, and the next request reconnects",
  ignore: !myUp,
  ...options,
  fn: async () => {
    const { rig, cleanup } = await myRig(MY_SLOW_QUERY);
    try {
      await midQuery(rig);
    } finally {
      await finish(rig, cleanup);
    }
  },
});

/** A short deadline, so the hang tests end soon (they assert codes, not times). */
const SHORT_DEADLINE = { CVM_SQL_TIMEOUT: "0.5" };

Deno.test({
  name:
    "cvm-pgsql-local: while PostgreSQL hangs requests answer IO past $CVM_SQL_TIMEOUT, and succeed again once it heals, without a restart",
  ignore: !pgUp,
  ...options,
  fn: async () => {
    const { rig, cleanup } = await pgRig(QUERY12, SHORT_DEADLINE);
    try {
      await hang(rig);
    } finally {
      await finish(rig, cleanup);
    }
  },
});

Deno.test({
  name:
    "cvm-mysql-local: while MariaDB hangs requests answer IO past $CVM_SQL_TIMEOUT, and succeed again once it heals, without a restart",
  ignore: !myUp,
  ...options,
  fn: async () => {
    const { rig, cleanup } = await myRig(QUERY12, SHORT_DEADLINE);
    try {
      await hang(rig);
    } finally {
      await finish(rig, cleanup);
    }
  },
});
