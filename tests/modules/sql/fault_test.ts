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
  MARIADB,
  type Outcome,
  POSTGRESQL,
  QUERY12,
  REF,
  referenceAvailable,
  runWith,
  serverAvailable,
  type SqlServer,
  startCaptured,
  type TestDatabase,
  uniqueName,
  until,
} from "./_helpers.ts";
import { startProxy, type TcpProxy } from "./_proxy.ts";
import { accountRows } from "./_scenarios.ts";

const pgUp = await serverAvailable(POSTGRESQL);
const myUp = await serverAvailable(MARIADB);
const TESTCLIENT = referenceAvailable("cvm-testclient")
  ? `${REF}/cvm-testclient`
  : `${dist}/cvm-testclient`;
const ROWS = accountRows("*");
const SECRET = "hunter2-never-printed";

function ask(socket: string, args: string[]): Promise<Outcome> {
  return runWith(TESTCLIENT, [`cvm-local:${socket}`, ...args], {});
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

/** A database server, and what its module's faults need to know of it. */
interface FaultServer {
  /** The server. */
  server: SqlServer;
  /** Whether it is up. */
  up: boolean;
  /** A slow query: `nul` sleeps two seconds on the server. */
  slowQuery: string;
  /** The module's environment pointing it at the proxy; `tag` is unique to the test. */
  env(proxyPort: number, tag: string): Record<string, string>;
  /** Whether the module's slow query is running on the server now. */
  sleeping(db: TestDatabase, tag: string): Promise<boolean>;
}

const SERVERS: FaultServer[] = [
  {
    server: POSTGRESQL,
    up: pgUp,
    slowQuery: QUERY12 +
      " AND (username <> 'nul' OR (SELECT true FROM pg_sleep(2)))",
    env: (proxyPort, tag) => ({
      PGPORT: String(proxyPort),
      PGPASSWORD: SECRET,
      PGAPPNAME: tag,
    }),
    sleeping: async (db, tag) => {
      const rows = await db.exec(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'",
        [tag],
      );
      return Number(rows[0][0]) > 0;
    },
  },
  {
    server: MARIADB,
    up: myUp,
    slowQuery: QUERY12 + " AND (username <> 'nul' OR SLEEP(2) = 0)",
    env: (proxyPort) => ({ CVM_MYSQL_PORT: String(proxyPort) }),
    sleeping: async (db) => {
      const rows = await db.exec(
        "SELECT count(*) FROM information_schema.processlist WHERE db = ? AND info LIKE '%SLEEP(2)%' AND id <> CONNECTION_ID()",
        [db.name],
      );
      return Number(rows[0][0]) > 0;
    },
  },
];

/** A `-local` server over a fresh database reached through a proxy. */
async function startRig(
  fault: FaultServer,
  query: string,
  extra: Record<string, string>,
) {
  const { server } = fault;
  await ensureDist();
  const db = await server.create(ROWS);
  const proxy = startProxy(server.port);
  const dir = Deno.makeTempDirSync({ prefix: "cvm-fault-" });
  const socket = `${dir}/s`;
  const tag = uniqueName("cvmfault");
  const cleanup = async () => {
    await proxy.close();
    await db.drop();
    Deno.removeSync(dir, { recursive: true });
  };
  try {
    const module = await startCaptured(
      `${dist}/cvm-${server.module}-local`,
      [socket],
      {
        ...db.env,
        ...fault.env(proxy.port, tag),
        [`${server.prefix}_QUERY`]: query,
        ...extra,
      },
    );
    const rig: Rig = {
      proxy,
      server: module,
      socket,
      sleeping: () => fault.sleeping(db, tag),
    };
    return { rig, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

const options = { sanitizeOps: false, sanitizeResources: false };

/** A short deadline, so the hang tests end soon (they assert codes, not times). */
const SHORT_DEADLINE = { CVM_SQL_TIMEOUT: "0.5" };

for (const fault of SERVERS) {
  const faultTest = (
    name: string,
    query: string,
    extra: Record<string, string>,
    scenario: (rig: Rig) => Promise<void>,
  ) =>
    Deno.test({
      name: `cvm-${fault.server.module}-local: ${name}`,
      ignore: !fault.up,
      ...options,
      fn: async () => {
        const { rig, cleanup } = await startRig(fault, query, extra);
        try {
          await scenario(rig);
        } finally {
          await finish(rig, cleanup);
        }
      },
    });

  faultTest(
    `while ${fault.server.label} is unreachable requests answer IO (logged ?), and succeed again once it is back, without a restart`,
    QUERY12,
    {},
    outage,
  );
  faultTest(
    "a connection cut in the middle of a query is IO, and the next request reconnects",
    fault.slowQuery,
    {},
    midQuery,
  );
  faultTest(
    `while ${fault.server.label} hangs requests answer IO past $CVM_SQL_TIMEOUT, and succeed again once it heals, without a restart`,
    QUERY12,
    SHORT_DEADLINE,
    hang,
  );
}
