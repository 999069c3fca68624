/**
 * Performance of the SQL modules in server mode, ours next to the
 * reference's (Debian's cvm-pgsql-local and cvm-mysql-local) and to a
 * floor (a bare Deno server making the same prepared query through the
 * same driver, `scripts/_bench_floor.ts`), against one table of 100,000
 * accounts, driven by the reference's `cvm-benchclient` over a local
 * socket:
 *
 * - 1 client and 16 clients at once: validations per second, the median
 *   of alternating runs (targets: ours at least 0.85× the reference's at 1
 *   client, 1.6× at 16);
 * - latency at 16 clients: 15 clients keep the load while one probe times
 *   each of its requests; p50 and p99, ours and the reference's.
 *
 * The reference listens with a small backlog; a connection it refuses
 * would make a cvm-benchclient run fail, and the run would be reported as
 * failed: in the runs here it refused none. The probe retries a refused
 * connection and counts it.
 *
 * The tables are made with the SQL tests' own helpers
 * (`tests/modules/sql/_helpers.ts`): a schema or database of its own,
 * dropped at the end. `$CVM_SQL_CONNECTIONS` (unset: each module's
 * default) is passed to our modules and to the floor. Usage:
 *
 *     deno run --allow-all scripts/bench_sql.ts [--only pgsql|mysql] [--quick]
 *
 * A database that is not reachable is skipped with a line saying so.
 *
 * @module
 */

import { encodeRequestV2, parseResponseV2 } from "../protocol/mod.ts";
import {
  createMyDatabase,
  createPgSchema,
  QUERY12,
  tcpUp,
} from "../tests/modules/sql/_helpers.ts";
import {
  childEnv,
  ensureBuilt,
  FLOOR,
  type Server,
  startServer,
} from "./_bench_proc.ts";
import {
  type Contestant,
  type Credentials,
  measureRates,
  type Outcome,
  type RatePlan,
  rateRow,
  REF_BENCHCLIENT,
} from "./_bench_rates.ts";
import { formatRate, renderTable, type Row } from "./_bench_table.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const REF = "/usr/bin";
const ACCOUNTS = 100_000;
const DOMAIN = "example.com";

/** The targets: ours against the reference. */
const TARGET = { one: 0.85, sixteen: 1.6 };

/** Run lengths and repetitions. */
interface SqlPlan {
  /** Seconds a rate run lasts. */
  seconds: number;
  /** Rate runs per contestant (median reported). */
  repetitions: number;
  /** Seconds of the latency phase. */
  latency: number;
}

const FULL: SqlPlan = { seconds: 2, repetitions: 3, latency: 3 };
const QUICK: SqlPlan = { seconds: 1, repetitions: 1, latency: 1 };

/** One database module's figures. */
export interface BenchResult {
  /** e.g. "cvm-pgsql-local". */
  module: string;
  /** Rates at 1 client, by contestant (reference, ours, floor). */
  one?: Map<string, Outcome>;
  /** Rates at 16 clients, by contestant. */
  sixteen?: Map<string, Outcome>;
  /** Latency at 16 clients, by contestant (reference, ours). */
  latency?: Map<string, Latency>;
  /** Why it was not measured. */
  skipped?: string;
}

/** Latency at 16 clients. */
export interface Latency {
  /** Median, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Connections refused and retried by the probe. */
  refused: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function credentials(i: number): Credentials {
  return { account: `user${i}`, domain: DOMAIN, password: `pw${i}` };
}

/** Client `k` of `clients` validates an account of its own. */
function spread(k: number): Credentials {
  return credentials(1 + ((k * 6151) % ACCOUNTS));
}

/** A PostgreSQL schema with the accounts (the tests' helper), and its env. */
async function preparePg() {
  const schema = await createPgSchema([]);
  try {
    await schema.exec(
      "ALTER TABLE accounts ADD PRIMARY KEY (username, domain)",
    );
    await schema.exec(
      `INSERT INTO accounts SELECT 'user' || i, '${DOMAIN}', 'pw' || i,
      (10000 + i)::text, '100', '/home/user' || i, 'User ' || i, '/bin/sh',
      'users', NULL, NULL, 'Maildir/' FROM generate_series(1, ${ACCOUNTS}) i`,
    );
    await schema.exec("ANALYZE accounts");
  } catch (e) {
    await schema.drop().catch(() => {});
    throw e;
  }
  return {
    env: { ...schema.env, CVM_PGSQL_QUERY: QUERY12 },
    drop: schema.drop,
  };
}

/** A MariaDB database with the accounts (the tests' helper), and its env. */
async function prepareMy() {
  const db = await createMyDatabase([]);
  try {
    await db.exec("ALTER TABLE accounts ADD PRIMARY KEY (username, domain)");
    await db.exec(
      `INSERT INTO accounts SELECT CONCAT('user', seq), '${DOMAIN}',
      CONCAT('pw', seq), 10000 + seq, '100', CONCAT('/home/user', seq),
      CONCAT('User ', seq), '/bin/sh', 'users', NULL, NULL, 'Maildir/'
      FROM seq_1_to_${ACCOUNTS}`,
    );
    await db.exec("ANALYZE TABLE accounts");
  } catch (e) {
    await db.drop().catch(() => {});
    throw e;
  }
  return { env: { ...db.env, CVM_MYSQL_QUERY: QUERY12 }, drop: db.drop };
}

/** One timed validation over the local socket, retrying a refused connect; ms. */
async function probeOnce(
  socket: string,
  request: Uint8Array,
  random: Uint8Array,
  refused: { count: number },
): Promise<number> {
  const start = performance.now();
  let conn: Deno.UnixConn;
  while (true) {
    try {
      conn = await Deno.connect({ transport: "unix", path: socket });
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.WouldBlock)) throw e;
      refused.count++;
      await sleep(1);
    }
  }
  try {
    let at = 0;
    while (at < request.length) at += await conn.write(request.subarray(at));
    await conn.closeWrite();
    const buffer = new Uint8Array(1024);
    let length = 0;
    while (true) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    const elapsed = performance.now() - start;
    const parsed = parseResponseV2(buffer.slice(0, length), random);
    if (!parsed.ok || parsed.value.code !== 0) {
      throw new Error("the probe's validation failed");
    }
    return elapsed;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** 15 clients of load (cvm-benchclient in a loop) plus one probe timing each request. */
async function latency(socket: string, seconds: number): Promise<Latency> {
  const random = crypto.getRandomValues(new Uint8Array(8));
  const enc = new TextEncoder();
  const { account, domain, password } = credentials(77);
  const request = encodeRequestV2(random, [
    { type: 1, value: enc.encode(account) },
    { type: 2, value: enc.encode(domain) },
    { type: 3, value: enc.encode(password) },
  ]);
  const deadline = performance.now() + seconds * 1000;
  const load = Promise.all(Array.from({ length: 15 }, async (_, k) => {
    const { account, domain, password } = spread(k + 1);
    while (performance.now() < deadline) {
      await new Deno.Command(REF_BENCHCLIENT, {
        args: ["100", `cvm-local:${socket}`, account, domain, password],
        env: childEnv({}),
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
    }
  }));
  const samples: number[] = [];
  const refused = { count: 0 };
  await sleep(100);
  while (performance.now() < deadline) {
    samples.push(await probeOnce(socket, request, random, refused));
  }
  await load;
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    refused: refused.count,
  };
}

async function benchModule(
  module: "pgsql" | "mysql",
  plan: SqlPlan,
): Promise<BenchResult> {
  const name = `cvm-${module}-local`;
  const port = module === "pgsql" ? 5432 : 3306;
  if (!(await tcpUp(port))) {
    return { module: name, skipped: `no database at 127.0.0.1:${port}` };
  }
  for (const path of [`${REF}/${name}`, REF_BENCHCLIENT]) {
    try {
      Deno.statSync(path);
    } catch {
      return { module: name, skipped: `${path} is not installed` };
    }
  }
  const unbuilt = await ensureBuilt(`${ROOT}/dist/${name}`);
  if (unbuilt !== undefined) return { module: name, skipped: unbuilt };
  const db = module === "pgsql" ? await preparePg() : await prepareMy();
  const dir = Deno.makeTempDirSync({ prefix: "cvm-bench-sql-" });
  const servers: Server[] = [];
  try {
    const connections = Deno.env.get("CVM_SQL_CONNECTIONS");
    const env = childEnv({
      ...db.env,
      ...(connections ? { CVM_SQL_CONNECTIONS: connections } : {}),
    });
    const start = async (label: string, argv: string[], socket: string) => {
      const server = startServer(
        label,
        [...argv, socket],
        env,
        `${socket}.log`,
      );
      servers.push(server);
      await server.waitFor("Starting.", 30_000);
      return { name: label, module: `cvm-local:${socket}` };
    };
    const contestants: Contestant[] = [
      await start("reference", [`${REF}/${name}`], `${dir}/ref.sock`),
      await start("ours", [`${ROOT}/dist/${name}`], `${dir}/ours.sock`),
      await start("floor", [...FLOOR, module], `${dir}/floor.sock`),
    ];
    const rates = (clients: number): RatePlan => ({
      clients,
      seconds: plan.seconds,
      repetitions: plan.repetitions,
      warmupSeconds: 0.5,
    });
    console.error(`bench: ${name}: 1 client`);
    const one = await measureRates(contestants, rates(1), spread);
    console.error(`bench: ${name}: 16 clients`);
    const sixteen = await measureRates(contestants, rates(16), spread);
    console.error(`bench: ${name}: latency at 16 clients`);
    const latencies = new Map<string, Latency>();
    for (const c of contestants.slice(0, 2)) {
      latencies.set(
        c.name,
        await latency(c.module.slice("cvm-local:".length), plan.latency),
      );
    }
    return { module: name, one, sixteen, latency: latencies };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await db.drop();
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * The rows one module adds to `deno task bench`'s table: ours at 1 and 16
 * clients against the reference (with the issue's targets), and the floor.
 *
 * @param result The module's figures.
 * @returns The rows.
 */
export function sqlRows(result: BenchResult): Row[] {
  if (result.skipped !== undefined) {
    return [{
      scenario: result.module,
      reference: "",
      ours: "",
      error: `skipped: ${result.skipped}`,
    }];
  }
  const rows: Row[] = [];
  for (
    const [label, outcomes, min] of [
      ["1 client", result.one, TARGET.one],
      ["16 clients", result.sixteen, TARGET.sixteen],
    ] as const
  ) {
    const ref = outcomes?.get("reference");
    rows.push(rateRow(
      `${result.module}, ${label} (v/s)`,
      ref,
      outcomes?.get("ours"),
      min,
    ));
    rows.push(rateRow(
      `  floor (a bare Deno server + the driver): ${result.module}, ${label}`,
      ref,
      outcomes?.get("floor"),
      undefined,
      "floor",
    ));
  }
  return rows;
}

/**
 * Formats the results as a table: each contestant's rates (every run) and
 * latency.
 *
 * @param results One entry per module.
 * @returns The table text.
 */
export function formatTable(results: BenchResult[]): string {
  const lines = [
    `SQL modules over a local socket, ${ACCOUNTS} accounts, driven by the reference's cvm-benchclient ` +
    "(validations/s: median and every run; latency at 16 clients)",
  ];
  for (const r of results) {
    if (r.skipped !== undefined) {
      lines.push(`${r.module}: skipped (${r.skipped})`);
      continue;
    }
    for (const who of ["reference", "ours", "floor"]) {
      const show = (o?: Outcome) =>
        o === undefined
          ? "-"
          : "error" in o
          ? `failed: ${o.error}`
          : `${formatRate(o.rate)} (${o.runs.map(formatRate).join(", ")})`;
      const lat = r.latency?.get(who);
      lines.push(
        `${r.module.padEnd(16)} ${who.padEnd(9)}  @1 ${show(r.one?.get(who))}` +
          `  @16 ${show(r.sixteen?.get(who))}` +
          (lat
            ? `  p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms` +
              `, probe refused ${lat.refused}`
            : ""),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs the SQL benchmark for the chosen modules.
 *
 * @param options Which modules, and whether to run the short version.
 * @returns The results.
 */
export async function benchSql(
  options: { only?: "pgsql" | "mysql"; quick?: boolean } = {},
): Promise<BenchResult[]> {
  const plan = options.quick ? QUICK : FULL;
  const modules = options.only ? [options.only] : ["pgsql", "mysql"] as const;
  const results: BenchResult[] = [];
  for (const module of modules) {
    try {
      results.push(await benchModule(module, plan));
    } catch (e) {
      results.push({
        module: `cvm-${module}-local`,
        skipped: `failed: ${e instanceof Error ? e.message : e}`,
      });
    }
  }
  return results;
}

if (import.meta.main) {
  const args = Deno.args;
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  if (only !== undefined && only !== "pgsql" && only !== "mysql") {
    console.error("usage: bench_sql.ts [--only pgsql|mysql] [--quick]");
    Deno.exit(2);
  }
  const results = await benchSql({ only, quick: args.includes("--quick") });
  console.log(formatTable(results));
  console.log(renderTable(results.flatMap(sqlRows)));
  Deno.exit(0);
}

/**
 * The entry `deno task bench` calls: runs the SQL benchmark, prints its
 * table, and gives its rows to the main table.
 *
 * @returns The rows.
 */
export default async function runSqlBench(): Promise<Row[]> {
  const results = await benchSql();
  console.log("\n" + formatTable(results));
  return results.flatMap(sqlRows);
}
