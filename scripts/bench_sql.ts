/**
 * Performance of the SQL modules in server mode, ours next to the
 * reference's (Debian's cvm-pgsql-local and cvm-mysql-local), against the
 * same database table of 100,000 accounts, driven by the reference's
 * `cvm-benchclient` over a local socket:
 *
 * - one client at a time: validations per second (target: ours at least
 *   0.5× the reference's);
 * - 16 clients at once (16 benchclients in parallel): validations per second
 *   (target: ours at least 1.5× the reference's);
 * - latency at 16 clients: 15 benchclients keep the load while one probe
 *   client times each of its requests; p50 and p99.
 *
 * Each phase runs for a fixed time; every client slot runs
 * `cvm-benchclient 100 …` again and again. Successful validations are
 * counted from the server's own log (`+` lines), because the reference
 * listens with a backlog of one and refuses most connections of concurrent
 * clients (cvm-benchclient then stops with error 4): such failed runs are
 * counted and shown, and the slot retries after 10 ms. The probe retries a
 * refused connection too; its latency runs from its first attempt.
 *
 * One run each, printed as a table. Usage:
 *
 *     deno run --allow-all scripts/bench_sql.ts [--only pgsql|mysql] [--quick]
 *
 * A database that is not reachable is skipped with a line saying so.
 *
 * @module
 */

import postgres from "postgres";
import mysql from "mysql2/promise";
import { encodeRequestV2, parseResponseV2 } from "../protocol/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const REF = "/usr/bin";
const ACCOUNTS = 100_000;
const QUERY =
  "SELECT password, username, userid, groupid, directory, realname, shell, " +
  "groupname, domain, sys_username, sys_directory, mailbox FROM accounts " +
  "WHERE username=$account AND domain=$domain";
const DOMAIN = "example.com";

/** How long each phase runs, in seconds. */
export interface BenchTimes {
  /** The one-client phase. */
  single: number;
  /** The 16-client phase. */
  sixteen: number;
  /** The latency phase. */
  latency: number;
}

const FULL: BenchTimes = { single: 5, sixteen: 6, latency: 5 };
const QUICK: BenchTimes = { single: 1, sixteen: 1.5, latency: 1.5 };

/** Validations per cvm-benchclient run. */
const CHUNK = 100;

/** One module's figures. */
export interface BenchFigures {
  /** Validations per second, one client. */
  single: number;
  /** Validations per second, 16 clients. */
  sixteen: number;
  /** cvm-benchclient runs that failed in the 16-client phase. */
  failedRuns: number;
  /** Median latency at 16 clients, ms. */
  p50: number;
  /** 99th percentile latency at 16 clients, ms. */
  p99: number;
  /** Connections the probe had refused and retried. */
  refused: number;
}

/** One database's result. */
export interface BenchResult {
  module: string;
  reference?: BenchFigures;
  ours?: BenchFigures;
  skipped?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tcpUp(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

function user(i: number): string {
  return `user${i}`;
}

function password(i: number): string {
  return `pw${i}`;
}

/** Fills a PostgreSQL schema of its own with the accounts; returns env and a drop. */
async function preparePg(name: string) {
  const sql = postgres({
    host: "127.0.0.1",
    username: "postgres",
    database: "test",
    max: 1,
    onnotice: () => {},
  });
  const fill = async () => {
    await sql.unsafe(`CREATE SCHEMA ${name}`);
    await sql.unsafe(
      `CREATE TABLE ${name}.accounts (username text NOT NULL, domain text NOT NULL,
      password text, userid text, groupid text, directory text, realname text,
      shell text, groupname text, sys_username text, sys_directory text,
      mailbox text, PRIMARY KEY (username, domain))`,
    );
    await sql.unsafe(
      `INSERT INTO ${name}.accounts SELECT 'user' || i, '${DOMAIN}', 'pw' || i,
      (10000 + i)::text, '100', '/home/user' || i, 'User ' || i, '/bin/sh',
      'users', NULL, NULL, 'Maildir/' FROM generate_series(1, ${ACCOUNTS}) i`,
    );
    await sql.unsafe(`ANALYZE ${name}.accounts`);
  };
  const drop = async () => {
    try {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    } finally {
      await sql.end();
    }
  };
  try {
    await fill();
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
  return {
    env: {
      PGHOST: "127.0.0.1",
      PGPORT: "5432",
      PGUSER: "postgres",
      PGDATABASE: "test",
      PGOPTIONS: `-c search_path=${name}`,
      CVM_PGSQL_QUERY: QUERY,
    },
    drop,
  };
}

/** Fills a MariaDB database of its own with the accounts; returns env and a drop. */
async function prepareMy(name: string) {
  const conn = await mysql.createConnection({
    host: "127.0.0.1",
    user: "root",
  });
  const fill = async () => {
    await conn.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    await conn.query(`USE ${name}`);
    await conn.query(
      `CREATE TABLE ${name}.accounts (username varchar(64) NOT NULL,
      domain varchar(64) NOT NULL, password varchar(128), userid varchar(16),
      groupid varchar(16), directory varchar(128), realname varchar(128),
      shell varchar(64), groupname varchar(64), sys_username varchar(64),
      sys_directory varchar(128), mailbox varchar(128),
      PRIMARY KEY (username, domain))`,
    );
    await conn.query(
      `INSERT INTO ${name}.accounts SELECT CONCAT('user', seq), '${DOMAIN}',
      CONCAT('pw', seq), 10000 + seq, '100', CONCAT('/home/user', seq),
      CONCAT('User ', seq), '/bin/sh', 'users', NULL, NULL, 'Maildir/'
      FROM seq_1_to_${ACCOUNTS}`,
    );
    await conn.query(`ANALYZE TABLE ${name}.accounts`);
  };
  const drop = async () => {
    try {
      await conn.query(`DROP DATABASE IF EXISTS ${name}`);
    } finally {
      await conn.end();
    }
  };
  try {
    await fill();
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
  return {
    env: {
      CVM_MYSQL_HOST: "127.0.0.1",
      CVM_MYSQL_PORT: "3306",
      CVM_MYSQL_USER: "root",
      CVM_MYSQL_DB: name,
      CVM_MYSQL_QUERY: QUERY,
    },
    drop,
  };
}

/** A module server process on a socket. */
async function startServer(
  cmd: string[],
  socket: string,
  env: Record<string, string>,
) {
  try {
    Deno.removeSync(socket);
  } catch { /* not there */ }
  const logPath = `${socket}.log`;
  const logFile = Deno.openSync(logPath, {
    write: true,
    create: true,
    truncate: true,
  });
  const child = new Deno.Command(cmd[0], {
    args: [...cmd.slice(1), socket],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // The log goes to a file, as under multilog it goes to a pipe.
  const logging = (async () => {
    for await (const chunk of child.stdout) {
      let at = 0;
      while (at < chunk.length) at += logFile.writeSync(chunk.subarray(at));
    }
    logFile.close();
  })();
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 400; i++) {
    try {
      if (Deno.statSync(socket).isSocket) break;
    } catch { /* not yet */ }
    if (exited) throw new Error(`${cmd.join(" ")} exited at start`);
    await sleep(25);
  }
  return {
    /** Successful validations logged so far. */
    successes(): number {
      const text = Deno.readTextFileSync(logPath);
      let n = 0;
      for (const line of text.split("\n")) if (line.startsWith("+ ")) n++;
      return n;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await logging;
    },
  };
}

type Server = Awaited<ReturnType<typeof startServer>>;

/** Runs cvm-benchclient; resolves with its exit status. */
async function benchclient(
  count: number,
  socket: string,
  i: number,
): Promise<number> {
  const out = await new Deno.Command(`${REF}/cvm-benchclient`, {
    args: [String(count), `cvm-local:${socket}`, user(i), DOMAIN, password(i)],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  return out.code;
}

/**
 * Keeps `clients` slots running cvm-benchclient until `seconds` have passed;
 * successful validations per second (from the server's log) and the
 * number of failed runs.
 */
async function slots(
  server: Server,
  socket: string,
  clients: number,
  seconds: number,
  salt: number,
): Promise<{ rate: number; failedRuns: number }> {
  const before = server.successes();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let failedRuns = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const account = 1 + ((k * salt) % ACCOUNTS);
      while (performance.now() < deadline) {
        if ((await benchclient(CHUNK, socket, account)) !== 0) {
          failedRuns++;
          await sleep(10);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await sleep(50); // the last log lines
  return { rate: (server.successes() - before) / elapsed, failedRuns };
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

/** 15 benchclient slots of load plus one probe timing each request. */
async function latency(
  server: Server,
  socket: string,
  seconds: number,
): Promise<{ p50: number; p99: number; refused: number }> {
  const random = crypto.getRandomValues(new Uint8Array(8));
  const enc = new TextEncoder();
  const request = encodeRequestV2(random, [
    { type: 1, value: enc.encode(user(77)) },
    { type: 2, value: enc.encode(DOMAIN) },
    { type: 3, value: enc.encode(password(77)) },
  ]);
  let loading = true;
  const load = slots(server, socket, 15, seconds, 7919).finally(() =>
    loading = false
  );
  const samples: number[] = [];
  const refused = { count: 0 };
  await sleep(100);
  while (loading && samples.length < 1_000_000) {
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

async function measure(
  server: Server,
  socket: string,
  times: BenchTimes,
): Promise<BenchFigures> {
  await slots(server, socket, 4, 0.3, 31); // warm: connections, statements
  const single = await slots(server, socket, 1, times.single, 1);
  const sixteen = await slots(server, socket, 16, times.sixteen, 6151);
  const { p50, p99, refused } = await latency(server, socket, times.latency);
  return {
    single: single.rate,
    sixteen: sixteen.rate,
    failedRuns: sixteen.failedRuns,
    p50,
    p99,
    refused,
  };
}

async function benchModule(
  module: "pgsql" | "mysql",
  times: BenchTimes,
): Promise<BenchResult> {
  const name = `cvm-${module}-local`;
  const port = module === "pgsql" ? 5432 : 3306;
  if (!(await tcpUp(port))) {
    return { module: name, skipped: `no database at 127.0.0.1:${port}` };
  }
  const schema = `cvm_bench_${Date.now().toString(36)}`;
  const db = module === "pgsql"
    ? await preparePg(schema)
    : await prepareMy(schema);
  const dir = Deno.makeTempDirSync({ prefix: "cvm-bench-" });
  const result: BenchResult = { module: name };
  try {
    const haveReference = (() => {
      try {
        Deno.statSync(`${REF}/${name}`);
        Deno.statSync(`${REF}/cvm-benchclient`);
        return true;
      } catch {
        return false;
      }
    })();
    if (!haveReference) {
      return { module: name, skipped: `${REF}/${name} is not installed` };
    }
    const reference = await startServer(
      [`${REF}/${name}`],
      `${dir}/ref.sock`,
      db.env,
    );
    try {
      result.reference = await measure(reference, `${dir}/ref.sock`, times);
    } finally {
      await reference.stop();
    }
    const ours = await startServer(
      [
        Deno.execPath(),
        "run",
        "--allow-all",
        "--quiet",
        `${ROOT}/main.ts`,
        name,
      ],
      `${dir}/ours.sock`,
      db.env,
    );
    try {
      result.ours = await measure(ours, `${dir}/ours.sock`, times);
    } finally {
      await ours.stop();
    }
    return result;
  } finally {
    await db.drop();
    Deno.removeSync(dir, { recursive: true });
  }
}

function fixed(n: number, digits = 0): string {
  return n.toFixed(digits);
}

/**
 * Formats results as a table, with the ratios and the targets.
 *
 * @param results One entry per module.
 * @returns The table text.
 */
export function formatTable(results: BenchResult[]): string {
  const rows: string[][] = [[
    "module",
    "server",
    "1 client/s",
    "16 clients/s",
    "failed runs @16",
    "p50 ms @16",
    "p99 ms @16",
    "probe refused",
  ]];
  const notes: string[] = [];
  for (const r of results) {
    if (r.skipped) {
      notes.push(`${r.module}: skipped (${r.skipped})`);
      continue;
    }
    const pairs = [["reference", r.reference], ["ours", r.ours]] as const;
    for (const [who, f] of pairs) {
      if (!f) continue;
      rows.push([
        r.module,
        who,
        fixed(f.single),
        fixed(f.sixteen),
        String(f.failedRuns),
        fixed(f.p50, 2),
        fixed(f.p99, 2),
        String(f.refused),
      ]);
    }
    if (r.reference && r.ours) {
      const one = r.ours.single / r.reference.single;
      const many = r.ours.sixteen / r.reference.sixteen;
      rows.push([
        r.module,
        "ours/reference",
        `${fixed(one, 2)}x`,
        `${fixed(many, 2)}x`,
        "",
        "",
        "",
        "",
      ]);
      const target = r.module.startsWith("cvm-pgsql")
        ? ` (issue targets: >= 0.5x ${
          one >= 0.5 ? "met" : "NOT met"
        }, >= 1.5x ${many >= 1.5 ? "met" : "NOT met"})`
        : "";
      notes.push(
        `${r.module}: ours/reference ${fixed(one, 2)}x at 1 client, ${
          fixed(many, 2)
        }x at 16 clients${target}`,
      );
    }
  }
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((r) => r[c].length))
  );
  const text = rows.map((r) =>
    r.map((cell, c) =>
      c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
    ).join("  ")
  );
  return [
    `SQL modules over a local socket, ${ACCOUNTS} accounts, driven by the reference's cvm-benchclient (one run)`,
    ...text,
    ...notes,
    "",
  ].join("\n");
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
  const times = options.quick ? QUICK : FULL;
  const modules = options.only ? [options.only] : ["pgsql", "mysql"] as const;
  const results: BenchResult[] = [];
  for (const module of modules) {
    try {
      results.push(await benchModule(module, times));
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
}

/**
 * The entry `deno task bench` calls: runs the full SQL benchmark and prints
 * its table.
 *
 * @returns Nothing; the report is printed.
 */
export default async function runSqlBench(): Promise<void> {
  console.log("\n" + formatTable(await benchSql()));
}
