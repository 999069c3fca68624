/**
 * What the policy cache buys (issue 12): `cvm-pgsql-local` over a table of
 * 100,000 accounts without the cache and with it (`CVM_CACHE_TTL=300`), and
 * `cvm-pwfile-local` with no layer, for comparison: a cache hit should cost
 * about what a pwfile answer does. Each is driven by the reference's
 * `cvm-benchclient` over a local socket (one client, a connection per
 * request, the same account each time, so every request after the first is
 * a hit); the figure is the median of alternating timed runs.
 *
 *     deno run --allow-all scripts/bench_policy.ts [--quick]
 *
 * Run by `deno task bench` too. PostgreSQL not reachable: said, and skipped.
 *
 * @module
 */

import postgres from "postgres";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BENCHCLIENT = "/usr/bin/cvm-benchclient";
const ACCOUNTS = 100_000;
const QUERY =
  "SELECT password, username, userid, groupid, directory, realname, shell, " +
  "groupname, domain, sys_username, sys_directory, mailbox FROM accounts " +
  "WHERE username=$account AND domain=$domain";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tcpUp(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** A schema of its own holding the accounts; its env and a drop. */
async function fillPg(name: string) {
  const sql = postgres({
    host: "127.0.0.1",
    username: "postgres",
    database: "test",
    max: 1,
    onnotice: () => {},
  });
  await sql.unsafe(`CREATE SCHEMA ${name}`);
  await sql.unsafe(
    `CREATE TABLE ${name}.accounts (username text NOT NULL, domain text NOT NULL,
    password text, userid text, groupid text, directory text, realname text,
    shell text, groupname text, sys_username text, sys_directory text,
    mailbox text, PRIMARY KEY (username, domain))`,
  );
  await sql.unsafe(
    `INSERT INTO ${name}.accounts SELECT 'user' || i, 'example.com', 'pw' || i,
    (10000 + i)::text, '100', '/home/user' || i, 'User ' || i, '/bin/sh',
    'users', NULL, NULL, 'Maildir/' FROM generate_series(1, ${ACCOUNTS}) i`,
  );
  await sql.unsafe(`ANALYZE ${name}.accounts`);
  return {
    env: {
      PGHOST: "127.0.0.1",
      PGPORT: "5432",
      PGUSER: "postgres",
      PGDATABASE: "test",
      PGOPTIONS: `-c search_path=${name}`,
      CVM_PGSQL_QUERY: QUERY,
    },
    drop: async () => {
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await sql.end();
      }
    },
  };
}

/** A module server on a socket, its log thrown away. */
async function serve(
  program: string,
  socket: string,
  env: Record<string, string>,
) {
  const child = new Deno.Command(`${ROOT}/dist/${program}-local`, {
    args: [socket],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 400; i++) {
    try {
      if (Deno.statSync(socket).isSocket) break;
    } catch { /* not yet */ }
    await sleep(25);
  }
  return {
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

/** Validations per second of one cvm-benchclient run of `count`. */
async function rate(socket: string, count: number): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(BENCHCLIENT, {
    args: [
      String(count),
      `cvm-local:${socket}`,
      "user77777",
      "example.com",
      "pw77777",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(new TextDecoder().decode(out.stderr).trim());
  }
  return count / ((performance.now() - start) / 1000);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs the comparison and prints its table.
 *
 * @param quick Shorter runs.
 * @returns Settles when done.
 */
export default async function runPolicyBench(
  quick = Deno.args.includes("--quick"),
): Promise<void> {
  if (!(await tcpUp(5432))) {
    console.log(
      "policy bench: PostgreSQL is not reachable at 127.0.0.1:5432; skipped",
    );
    return;
  }
  const name = `cvm_bench_policy_${Date.now().toString(36)}`;
  const dir = Deno.makeTempDirSync({ prefix: "cvm-bench-policy-" });
  const pg = await fillPg(name);
  Deno.writeTextFileSync(
    `${dir}/passwd`,
    Array.from(
      { length: ACCOUNTS },
      (_, i) => `user${i + 1}:pw${i + 1}:${10001 + i}:100:User:/home/u:/bin/sh`,
    ).join("\n") + "\n",
  );
  const setups: [string, string, Record<string, string>][] = [
    ["cvm-pgsql-local, no cache", "cvm-pgsql", pg.env],
    ["cvm-pgsql-local, CVM_CACHE_TTL=300", "cvm-pgsql", {
      ...pg.env,
      CVM_CACHE_TTL: "300",
    }],
    ["cvm-pwfile-local, no layer", "cvm-pwfile", {
      CVM_PWFILE_PATH: `${dir}/passwd`,
    }],
  ];
  const servers: { stop(): Promise<void> }[] = [];
  const rates: number[][] = setups.map(() => []);
  try {
    const sockets = setups.map((_, i) => `${dir}/s${i}`);
    for (const [i, [, program, env]] of setups.entries()) {
      servers.push(await serve(program, sockets[i], env));
    }
    // Calibrate each to about a second per run (half with --quick).
    const counts = [];
    for (const socket of sockets) {
      await rate(socket, 50); // warm: connections, statements, the cache
      const r = await rate(socket, 200);
      counts.push(Math.max(100, Math.round(r * (quick ? 0.5 : 1))));
    }
    const runs = quick ? 3 : 5;
    for (let round = 0; round < runs; round++) {
      for (const [i, socket] of sockets.entries()) {
        rates[i].push(await rate(socket, counts[i]));
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    await pg.drop();
    Deno.removeSync(dir, { recursive: true });
  }
  const medians = rates.map(median);
  const width = Math.max(...setups.map(([label]) => label.length));
  console.log(
    `\npolicy cache: ${
      ACCOUNTS.toLocaleString("en-US")
    } accounts, one cvm-benchclient, ` +
      `median of ${rates[0].length} alternating runs (validations/s)`,
  );
  for (const [i, [label]] of setups.entries()) {
    console.log(
      `  ${label.padEnd(width)}  ${
        Math.round(medians[i]).toLocaleString("en-US").padStart(7)
      }`,
    );
  }
  console.log(
    `  cache hit / no cache: ${(medians[1] / medians[0]).toFixed(2)}×; ` +
      `cache hit / pwfile: ${(medians[1] / medians[2]).toFixed(2)}×`,
  );
}

if (import.meta.main) await runPolicyBench();
