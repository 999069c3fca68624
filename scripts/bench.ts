/**
 * `deno task bench`: the performance report of issue 2. The reference's
 * `/usr/bin/cvm-benchclient` drives the reference module
 * `/usr/bin/cvm-pwfile` and ours (`dist/cvm-pwfile`) side by side, over a
 * local socket and over UDP, on a 2-account and a 100,000-account file
 * (validating an account near the end: the reference scans the file per
 * request). It also times command mode, 16 clients at once against each
 * local server, and our local server's resident memory with 100,000
 * accounts loaded. Then it runs `scripts/bench_sql.ts` and
 * `scripts/bench_ldap.ts` when they exist (each prints its own table),
 * prints one table and a closing line saying which targets were met. It is a report, not a test: it exits 0 whatever the figures.
 *
 * `$CVM_BENCH_OURS` (optional) is the path of the `cvm-pwfile` to measure
 * as ours instead of `dist/cvm-pwfile`.
 *
 * @module
 */

import { type BenchFile, writeAccountFile } from "./_bench_data.ts";
import {
  childEnv,
  freeUdpPort,
  installExitHandlers,
  residentBytes,
  runTimed,
  type Server,
  startServer,
  stopAll,
} from "./_bench_proc.ts";
import {
  formatRate,
  renderTable,
  type Row,
  summaryLine,
} from "./_bench_table.ts";

export type { Row } from "./_bench_table.ts";

/** The reference's benchmark client: it drives every measurement. */
const REF_BENCHCLIENT = "/usr/bin/cvm-benchclient";
/** The reference module. */
const REF_PWFILE = "/usr/bin/cvm-pwfile";
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/**
 * Our module (the launcher or the compiled binary, through its symlink);
 * `$CVM_BENCH_OURS` names another build of it, e.g. to try a fix.
 */
const OUR_PWFILE = Deno.env.get("CVM_BENCH_OURS") ||
  `${ROOT}/dist/cvm-pwfile`;

/** Timing knobs, sized for under ~3 minutes on 2 noisy cores. */
const PLAN = {
  /** Seconds a calibration (warm-up) run should last at least. */
  warmupSeconds: 0.5,
  /** Seconds each timed run should last. */
  runSeconds: 2,
  /** Timed runs per implementation (alternating; the median is reported). */
  repetitions: 3,
  /** Parallel clients in the concurrency figure. */
  clients: 16,
  /** Seconds the concurrency run should last (estimated). */
  concurrentSeconds: 2,
  /** Command-mode validations: ours starts a Deno process per request. */
  commandOurs: 20,
  /** Command-mode validations for the reference (cheap, so more). */
  commandReference: 100,
};

const log = (text: string) => console.error(`bench: ${text}`);

/** Thrown when a client run fails; the message goes into the table. */
class RunFailure extends Error {}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function describeFailure(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the reference benchclient `count` times against `module`; rate. */
async function benchRate(
  module: string,
  file: BenchFile,
  count: number,
): Promise<{ rate: number; seconds: number }> {
  const result = await runTimed(
    [
      REF_BENCHCLIENT,
      String(count),
      module,
      file.account,
      "",
      file.password,
    ],
    childEnv({ CVM_PWFILE_PATH: file.path }),
  );
  if (result.code !== 0) {
    throw new RunFailure(
      `benchclient exit ${result.code}${
        result.stderr ? `: ${result.stderr.split("\n").pop()}` : ""
      }`,
    );
  }
  return { rate: count / result.seconds, seconds: result.seconds };
}

/**
 * Warms a module up and estimates its rate: runs of growing size until one
 * lasts at least `PLAN.warmupSeconds`.
 */
async function calibrate(module: string, file: BenchFile): Promise<number> {
  let count = 10;
  for (;;) {
    const { rate, seconds } = await benchRate(module, file, count);
    if (seconds >= PLAN.warmupSeconds || count >= 2_000_000) return rate;
    const grow = Math.min(
      20,
      Math.max(2, (PLAN.warmupSeconds * 1.3) / Math.max(seconds, 0.001)),
    );
    count = Math.ceil(count * grow);
  }
}

/** One implementation's rate, or why it could not be measured. */
type Outcome = { rate: number } | { error: string };

/**
 * Measures the reference and ours against the same file, alternating runs
 * so that noise on the machine hits both alike; the median of each.
 */
async function measurePair(
  refModule: string,
  ourModule: string,
  file: BenchFile,
): Promise<{ ref: Outcome; ours: Outcome }> {
  const sides = [refModule, ourModule].map((module) => ({
    module,
    count: 0,
    rates: [] as number[],
    error: undefined as string | undefined,
  }));
  for (const side of sides) {
    try {
      const estimate = await calibrate(side.module, file);
      side.count = Math.max(5, Math.round(estimate * PLAN.runSeconds));
    } catch (e) {
      side.error = describeFailure(e);
    }
  }
  for (let i = 0; i < PLAN.repetitions; i++) {
    for (const side of sides) {
      if (side.error !== undefined) continue;
      try {
        side.rates.push((await benchRate(side.module, file, side.count)).rate);
      } catch (e) {
        side.error = describeFailure(e);
      }
    }
  }
  const outcome = (side: typeof sides[number]): Outcome =>
    side.error !== undefined
      ? { error: side.error }
      : { rate: median(side.rates) };
  return { ref: outcome(sides[0]), ours: outcome(sides[1]) };
}

/** `PLAN.clients` benchclients at once; total validations per second. */
async function measureConcurrent(
  module: string,
  file: BenchFile,
  singleRate: number,
): Promise<Outcome> {
  const perClient = Math.max(
    3,
    Math.ceil(singleRate * PLAN.concurrentSeconds / PLAN.clients),
  );
  const env = childEnv({ CVM_PWFILE_PATH: file.path });
  const start = performance.now();
  const results = await Promise.all(
    Array.from({ length: PLAN.clients }, () =>
      runTimed([
        REF_BENCHCLIENT,
        String(perClient),
        module,
        file.account,
        "",
        file.password,
      ], env)),
  );
  const seconds = (performance.now() - start) / 1000;
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length > 0) {
    return {
      error: `${failed.length}/${PLAN.clients} clients failed (exit ${
        failed[0].code
      }${failed[0].stderr ? `: ${failed[0].stderr.split("\n").pop()}` : ""})`,
    };
  }
  return { rate: (perClient * PLAN.clients) / seconds };
}

/** A rate row from two outcomes. */
function rateRow(
  scenario: string,
  pair: { ref: Outcome; ours: Outcome },
  target?: number,
): Row {
  const text = (o: Outcome) => "rate" in o ? formatRate(o.rate) : "";
  const errors = [
    "error" in pair.ref ? `reference: ${pair.ref.error}` : undefined,
    "error" in pair.ours ? `ours: ${pair.ours.error}` : undefined,
  ].filter((e) => e !== undefined);
  return {
    scenario,
    reference: text(pair.ref),
    ours: text(pair.ours),
    ratio: "rate" in pair.ref && "rate" in pair.ours
      ? pair.ours.rate / pair.ref.rate
      : undefined,
    target,
    error: errors.length > 0 ? errors.join("; ") : undefined,
  };
}

let serversStarted = 0;

/** Starts a server and checks with one validation that it answers. */
async function startChecked(
  label: string,
  argv: string[],
  file: BenchFile,
  clientModule: string,
  dir: string,
): Promise<Server> {
  const server = startServer(
    label,
    argv,
    childEnv({ CVM_PWFILE_PATH: file.path }),
    `${dir}/server-${++serversStarted}.log`,
  );
  await server.waitFor("Starting.", 30_000);
  try {
    await benchRate(clientModule, file, 1);
  } catch (e) {
    throw new RunFailure(
      `${label}: first validation failed: ${describeFailure(e)}${
        server.stderrTail() ? ` (${server.stderrTail()})` : ""
      }`,
    );
  }
  return server;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "n/a" : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The local-socket scenario for one file (plus concurrency and memory). */
async function localScenario(
  file: BenchFile,
  dir: string,
  name: string,
  target: number,
): Promise<Row[]> {
  const refModule = `cvm-local:${dir}/ref-${file.accounts}.sock`;
  const ourModule = `cvm-local:${dir}/ours-${file.accounts}.sock`;
  const servers: Server[] = [];
  try {
    const ref = await startChecked(
      "reference local server",
      [REF_PWFILE, refModule],
      file,
      refModule,
      dir,
    );
    servers.push(ref);
    const ours = await startChecked(
      "our local server",
      [OUR_PWFILE, ourModule],
      file,
      ourModule,
      dir,
    );
    servers.push(ours);
    const rows: Row[] = [];
    const memoryAfterOne = residentBytes(ours.pid);
    const refMemory = residentBytes(ref.pid);
    log(`local, ${name}: measuring`);
    const pair = await measurePair(refModule, ourModule, file);
    rows.push(rateRow(`local socket, ${name} (v/s)`, pair, target));
    log(`local, ${name}: ${rows.at(-1)!.reference} vs ${rows.at(-1)!.ours}`);
    const concurrent = {
      ref: "rate" in pair.ref
        ? await measureConcurrent(refModule, file, pair.ref.rate)
        : pair.ref,
      ours: "rate" in pair.ours
        ? await measureConcurrent(ourModule, file, pair.ours.rate)
        : pair.ours,
    };
    rows.push(
      rateRow(
        `local, ${PLAN.clients} clients at once, ${name} (total v/s)`,
        concurrent,
      ),
    );
    log(`local x${PLAN.clients}, ${name}: done`);
    if (file.accounts >= 100_000) {
      rows.push({
        scenario: `local server RSS, ${name}, after 1 request`,
        reference: mib(refMemory),
        ours: mib(memoryAfterOne),
      });
      rows.push({
        scenario: `local server RSS, ${name}, after the bench`,
        reference: mib(residentBytes(ref.pid)),
        ours: mib(residentBytes(ours.pid)),
      });
    }
    for (const server of servers) {
      if (server.exited()) {
        rows.push({
          scenario: `${server.label}, ${name}`,
          reference: "",
          ours: "",
          error: `exited during the bench: ${server.stderrTail()}`,
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** The UDP scenario for one file. */
async function udpScenario(
  file: BenchFile,
  dir: string,
  name: string,
  target: number,
): Promise<Row[]> {
  const servers: Server[] = [];
  try {
    const refModule = `cvm-udp:127.0.0.1:${await freeUdpPort()}`;
    servers.push(
      await startChecked(
        "reference UDP server",
        [REF_PWFILE, refModule],
        file,
        refModule,
        dir,
      ),
    );
    const ourModule = `cvm-udp:127.0.0.1:${await freeUdpPort()}`;
    servers.push(
      await startChecked(
        "our UDP server",
        [OUR_PWFILE, ourModule],
        file,
        ourModule,
        dir,
      ),
    );
    log(`udp, ${name}: measuring`);
    const pair = await measurePair(refModule, ourModule, file);
    const row = rateRow(`UDP, ${name} (v/s)`, pair, target);
    log(`udp, ${name}: ${row.reference} vs ${row.ours}`);
    return [row];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Command mode: the client runs the module once per validation. */
async function commandScenario(file: BenchFile, name: string): Promise<Row> {
  const perValidation = async (module: string, count: number) => {
    await benchRate(module, file, 1); // warm-up (and deno's cache)
    const { rate } = await benchRate(module, file, count);
    return 1000 / rate;
  };
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  let ref: number | undefined;
  let ours: number | undefined;
  const errors: string[] = [];
  try {
    ref = await perValidation(REF_PWFILE, PLAN.commandReference);
  } catch (e) {
    errors.push(`reference: ${describeFailure(e)}`);
  }
  try {
    ours = await perValidation(OUR_PWFILE, PLAN.commandOurs);
  } catch (e) {
    errors.push(`ours: ${describeFailure(e)}`);
  }
  log(`command, ${name}: done`);
  return {
    scenario: `command mode, ${name} (wall time/validation)`,
    reference: ref === undefined ? "" : ms(ref),
    ours: ours === undefined ? "" : ms(ours),
    ratio: ref !== undefined && ours !== undefined ? ref / ours : undefined,
    error: errors.length > 0 ? errors.join("; ") : undefined,
  };
}

/** Runs a scenario; a failure becomes an error row instead of ending the bench. */
async function guarded(
  scenario: string,
  target: number | undefined,
  body: () => Promise<Row[]>,
): Promise<Row[]> {
  try {
    return await body();
  } catch (e) {
    log(`${scenario}: ${describeFailure(e)}`);
    return [{
      scenario,
      reference: "",
      ours: "",
      target,
      error: describeFailure(e),
    }];
  }
}

/**
 * Runs an extra benchmark script (`scripts/bench_sql.ts`,
 * `scripts/bench_ldap.ts`) when it exists: its default export is an async
 * function; it may print its own report and may return rows ({@link Row})
 * to add to the table and the summary.
 *
 * @param file The script's file name, next to this one.
 * @param label What to call it in messages, e.g. "sql bench".
 * @returns The rows it returned, if any.
 */
async function extraBench(file: string, label: string): Promise<Row[]> {
  const path = new URL(`./${file}`, import.meta.url);
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      console.log(`${label}: not present`);
      return [];
    }
    throw e;
  }
  try {
    const module = await import(path.href);
    if (typeof module.default !== "function") {
      console.log(`${label}: scripts/${file} has no default function`);
      return [];
    }
    const rows: unknown = await module.default();
    return Array.isArray(rows)
      ? rows.filter((r): r is Row =>
        typeof r === "object" && r !== null && "scenario" in r
      )
      : [];
  } catch (e) {
    console.log(`${label}: failed: ${describeFailure(e)}`);
    return [{
      scenario: label,
      reference: "",
      ours: "",
      error: "failed",
    }];
  }
}

/** Checks the programs the bench needs are there; builds the launcher if not. */
async function preflight(): Promise<string | undefined> {
  for (const path of [REF_BENCHCLIENT, REF_PWFILE]) {
    try {
      await Deno.stat(path);
    } catch {
      return `${path} is missing: install Debian's cvm package (the reference)`;
    }
  }
  try {
    await Deno.stat(OUR_PWFILE);
  } catch {
    log("dist/cvm-pwfile is missing: building the launcher");
    const build = await runTimed(
      ["bash", `${ROOT}/scripts/compile.sh`, "--launcher"],
      childEnv({}),
    );
    if (build.code !== 0) return `scripts/compile.sh failed: ${build.stderr}`;
  }
  return undefined;
}

/**
 * Runs the whole benchmark and prints the table and the summary line.
 *
 * @returns The rows printed (the exit status is 0 whatever they say).
 * @example
 * ```ts
 * import { main } from "./bench.ts";
 * const rows = await main();
 * ```
 */
export async function main(): Promise<Row[]> {
  const dir = await Deno.makeTempDir({ prefix: "cvm-bench-" });
  const removeDir = () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  };
  installExitHandlers(removeDir);
  const started = performance.now();
  const rows: Row[] = [];
  try {
    const problem = await preflight();
    if (problem !== undefined) {
      console.log(`bench: cannot run: ${problem}`);
      console.log("targets met: none (bench did not run)");
      return [];
    }
    const small = await writeAccountFile(`${dir}/passwd-2`, 2);
    const large = await writeAccountFile(`${dir}/passwd-100000`, 100_000);
    const files = [
      { file: small, name: "2 accounts", target: 0.5 },
      { file: large, name: "100,000 accounts", target: 20 },
    ];
    const rates: Row[] = [];
    const others: Row[] = [];
    for (const { file, name, target } of files) {
      const local = await guarded(
        `local socket, ${name}`,
        target,
        () => localScenario(file, dir, name, target),
      );
      rates.push(local[0]);
      others.push(...local.slice(1));
      rates.push(
        ...await guarded(
          `UDP, ${name}`,
          target,
          () => udpScenario(file, dir, name, target),
        ),
      );
    }
    const commands: Row[] = [];
    for (const { file, name } of files) {
      commands.push(
        ...await guarded(
          `command mode, ${name}`,
          undefined,
          async () => [await commandScenario(file, name)],
        ),
      );
    }
    rows.push(
      ...rates,
      ...others.filter((r) => r.scenario.includes("clients at once")),
      ...commands,
      ...others.filter((r) => !r.scenario.includes("clients at once")),
    );
    await stopAll();
    rows.push(...await extraBench("bench_sql.ts", "sql bench"));
    rows.push(...await extraBench("bench_ldap.ts", "ldap bench"));
    rows.push(...await extraBench("bench_passwords.ts", "passwords bench"));
    rows.push(...await extraBench("bench_cdb.ts", "cdb bench"));
    rows.push(...await extraBench("bench_policy.ts", "policy bench"));
  } finally {
    await stopAll();
    removeDir();
  }
  console.log(
    `\ncvm-pwfile: reference ${REF_PWFILE} vs ours ${OUR_PWFILE}, driven by ${REF_BENCHCLIENT}`,
  );
  console.log(
    `(median of ${PLAN.repetitions} alternating runs of ~${PLAN.runSeconds} s each after a warm-up; ` +
      `ours/ref = how many times faster ours is)\n`,
  );
  console.log(renderTable(rows));
  console.log(
    `\nbench took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(summaryLine(rows));
  return rows;
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.log(`bench: failed: ${e instanceof Error ? e.stack : e}`);
    console.log("targets met: none (bench failed)");
  }
  Deno.exit(0);
}
