/**
 * `deno task bench`: the performance report of issues 2 and 11, every
 * figure measured against the reference in the same run. The reference's
 * `/usr/bin/cvm-benchclient` is the only client; the reference's modules
 * (`/usr/bin/cvm-*`) run beside ours (`dist/`, the launcher as installed,
 * V8 flags included), and beside a floor: `scripts/_bench_floor.ts`, a bare
 * Deno server that does none of our work, to show what Deno itself costs.
 *
 * cvm-pwfile, over a local socket and over UDP:
 *
 * - 2 accounts, 1 client and 16 clients at once (each figure the median of
 *   alternating runs of reference, ours and the floor);
 * - 100,000 accounts, validating the last one (the reference scans the
 *   file per request);
 * - resident memory: idle (after one request), after 16 clients, with
 *   100,000 accounts loaded;
 * - command mode: the wall time of one validation, ours and the
 *   reference's, and ours against `deno run` of an empty file;
 * - the modules a program loads (cvm-pwfile in command mode,
 *   cvm-testclient), from deno's own log.
 *
 * Then `scripts/bench_sql.ts` (cvm-pgsql-local, cvm-mysql-local) and
 * `scripts/bench_ldap.ts`, which print their own tables (the SQL rows join
 * this one). It prints one table and a closing line saying which targets
 * were met. It is a report, not a test: it exits 0 whatever the figures.
 *
 * `$CVM_BENCH_OURS` (optional) is the path of the `cvm-pwfile` to measure
 * as ours instead of `dist/cvm-pwfile`.
 *
 * @module
 */

import { freeUdpPort } from "../tests/_helpers.ts";
import {
  modulesLoaded,
  NOT_FOR_LIGHT_PROGRAMS,
} from "../tests/_modules_loaded.ts";
import { type BenchFile, writeAccountFile } from "./_bench_data.ts";
import {
  childEnv,
  DENO_RUN,
  ensureBuilt,
  FLOOR,
  installExitHandlers,
  residentBytes,
  type Server,
  startServer,
  stopAll,
} from "./_bench_proc.ts";
import {
  benchRate,
  type Contestant,
  type Credentials,
  measureRates,
  median,
  rateRow,
  REF_BENCHCLIENT,
} from "./_bench_rates.ts";
import {
  type Check,
  renderTable,
  type Row,
  summaryLine,
} from "./_bench_table.ts";
import { CredentialType, encodeRequestV2 } from "../protocol/mod.ts";

export type { Row } from "./_bench_table.ts";

/** The reference module. */
const REF_PWFILE = "/usr/bin/cvm-pwfile";
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/**
 * Our module (the launcher or the compiled binary, through its symlink);
 * `$CVM_BENCH_OURS` names another build of it, e.g. to try a fix.
 */
const OUR_PWFILE = Deno.env.get("CVM_BENCH_OURS") ||
  `${ROOT}/dist/cvm-pwfile`;
/** Timing knobs, sized for a few minutes on 2 noisy cores. */
const PLAN = {
  /** Seconds a warm-up run should last at least. */
  warmupSeconds: 0.5,
  /** Seconds each timed run should last. */
  runSeconds: 2,
  /** Timed runs per contestant (alternating; the median is reported). */
  repetitions: 3,
  /** Parallel clients in the concurrency figures. */
  clients: 16,
  /** Command-mode validations of ours (a Deno start each). */
  commandOurs: 20,
  /** Command-mode validations of the reference (cheap, so more). */
  commandReference: 100,
  /** Starts of ours and of `deno run` on an empty file, alternating. */
  starts: 15,
};

/** The issue's targets. */
const TARGET = {
  oneClient: 0.95,
  sixteenClients: 1.3,
  large: 200,
  idleMiB: 40,
  largeMiB: 100,
  sixteenMiB: 90,
  startVsEmpty: 1.6,
};

const log = (text: string) => console.error(`bench: ${text}`);

function describeFailure(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "n/a" : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A memory row: ours held to at most `maxMiB`, the reference shown beside. */
function memoryRow(
  scenario: string,
  ref: number | undefined,
  ours: number | undefined,
  maxMiB?: number,
): Row {
  const check: Check | undefined = maxMiB === undefined ? undefined : {
    value: ours === undefined ? NaN : ours / 2 ** 20,
    max: maxMiB,
    text: `<=${maxMiB} MiB`,
  };
  return { scenario, reference: mib(ref), ours: mib(ours), check };
}

let serversStarted = 0;

/** Starts a server and checks with one validation that it answers. */
async function startChecked(
  label: string,
  argv: string[],
  file: BenchFile,
  module: string,
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
    await benchRate(module, 1, 1, () => credentialsOf(file));
  } catch (e) {
    throw new Error(
      `${label}: first validation failed: ${describeFailure(e)}${
        server.stderrTail() ? ` (${server.stderrTail()})` : ""
      }`,
    );
  }
  return server;
}

function credentialsOf(file: BenchFile): Credentials {
  return { account: file.account, domain: "", password: file.password };
}

/** A command module's request (protocol version 2) for the file's account. */
function requestOf(file: BenchFile): Uint8Array {
  const enc = new TextEncoder();
  return encodeRequestV2(new Uint8Array(0), [
    { type: CredentialType.ACCOUNT, value: enc.encode(file.account) },
    { type: CredentialType.PASSWORD, value: enc.encode(file.password) },
  ]);
}

/** Reference, ours and (when given) the floor, on one transport. */
interface Trio {
  ref: Contestant & { server: Server };
  ours: Contestant & { server: Server };
  floor?: Contestant & { server: Server };
}

/** Starts the reference, ours and the floor on a local socket or UDP. */
async function startTrio(
  transport: "local" | "udp",
  file: BenchFile,
  dir: string,
  withFloor: boolean,
): Promise<Trio> {
  const where = async (who: string) =>
    transport === "local"
      ? `cvm-local:${dir}/${who}-${transport}-${file.accounts}.sock`
      : `cvm-udp:127.0.0.1:${await freeUdpPort()}`;
  const refModule = await where("ref");
  const ref = await startChecked(
    `reference ${transport} server`,
    [REF_PWFILE, refModule],
    file,
    refModule,
    dir,
  );
  const ourModule = await where("ours");
  const ours = await startChecked(
    `our ${transport} server`,
    [OUR_PWFILE, ourModule],
    file,
    ourModule,
    dir,
  );
  const trio: Trio = {
    ref: { name: "reference", module: refModule, server: ref },
    ours: { name: "ours", module: ourModule, server: ours },
  };
  if (withFloor) {
    const floorModule = await where("floor");
    const at = transport === "local"
      ? floorModule.slice("cvm-local:".length)
      : floorModule.split(":").pop()!;
    const floor = await startChecked(
      `floor ${transport} server`,
      [...FLOOR, transport, at],
      file,
      floorModule,
      dir,
    );
    trio.floor = { name: "floor", module: floorModule, server: floor };
  }
  return trio;
}

/** The contestants of a trio, the floor last. */
function contestants(trio: Trio): Contestant[] {
  return [trio.ref, trio.ours, ...(trio.floor ? [trio.floor] : [])];
}

/** Rate rows at `clients` for a trio: ours, and the floor when there is one. */
async function rateRows(
  trio: Trio,
  file: BenchFile,
  label: string,
  clients: number,
  min?: number,
): Promise<Row[]> {
  log(`${label}: measuring`);
  const outcomes = await measureRates(contestants(trio), {
    clients,
    seconds: PLAN.runSeconds,
    repetitions: PLAN.repetitions,
    warmupSeconds: PLAN.warmupSeconds,
  }, () => credentialsOf(file));
  const ref = outcomes.get("reference");
  const rows = [rateRow(label, ref, outcomes.get("ours"), min)];
  if (trio.floor) {
    rows.push(rateRow(
      `  floor (a bare Deno server): ${label}`,
      ref,
      outcomes.get("floor"),
      undefined,
      "floor",
    ));
  }
  log(`${label}: ${rows.map((r) => `${r.reference} vs ${r.ours}`).join("; ")}`);
  return rows;
}

/** The 2-account rates of a trio: at 1 client, and at 16. */
async function bothRates(
  trio: Trio,
  file: BenchFile,
  transport: string,
): Promise<Row[]> {
  return [
    ...await rateRows(
      trio,
      file,
      `${transport}, 2 accounts, 1 client (v/s)`,
      1,
      TARGET.oneClient,
    ),
    ...await rateRows(
      trio,
      file,
      `${transport}, 2 accounts, ${PLAN.clients} clients (total v/s)`,
      PLAN.clients,
      TARGET.sixteenClients,
    ),
  ];
}

/** The 2-account scenarios: rates at 1 and 16 clients, memory, floors. */
async function smallScenario(file: BenchFile, dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  const local = await startTrio("local", file, dir, true);
  try {
    // Idle: one request served, then a moment's rest.
    await new Promise((r) => setTimeout(r, 1000));
    rows.push(memoryRow(
      "RSS, idle local server (after 1 request)",
      residentBytes(local.ref.server.pid),
      residentBytes(local.ours.server.pid),
      TARGET.idleMiB,
    ));
    rows.push(memoryRow(
      "  floor (a bare Deno server): RSS, idle",
      residentBytes(local.ref.server.pid),
      residentBytes(local.floor!.server.pid),
    ));
    rows.push(...await bothRates(local, file, "local socket"));
    rows.push(memoryRow(
      `RSS, local server after ${PLAN.clients} clients`,
      residentBytes(local.ref.server.pid),
      residentBytes(local.ours.server.pid),
      TARGET.sixteenMiB,
    ));
    rows.push(...await moduleRows(file, local.ours.module));
  } finally {
    await stopTrio(local);
  }
  const udp = await startTrio("udp", file, dir, true);
  try {
    rows.push(...await bothRates(udp, file, "UDP"));
  } finally {
    await stopTrio(udp);
  }
  return rows;
}

/** The 100,000-account scenarios: rates and the memory of the index. */
async function largeScenario(file: BenchFile, dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  const local = await startTrio("local", file, dir, false);
  try {
    rows.push(memoryRow(
      "RSS, local server with 100,000 accounts (after 1 request)",
      residentBytes(local.ref.server.pid),
      residentBytes(local.ours.server.pid),
      TARGET.largeMiB,
    ));
    rows.push(
      ...await rateRows(
        local,
        file,
        "local socket, 100,000 accounts, 1 client (v/s)",
        1,
        TARGET.large,
      ),
    );
    rows.push(
      ...await rateRows(
        local,
        file,
        `local socket, 100,000 accounts, ${PLAN.clients} clients (total v/s)`,
        PLAN.clients,
      ),
    );
    rows.push(memoryRow(
      "RSS, local server with 100,000 accounts, after the bench",
      residentBytes(local.ref.server.pid),
      residentBytes(local.ours.server.pid),
    ));
  } finally {
    await stopTrio(local);
  }
  const udp = await startTrio("udp", file, dir, false);
  try {
    rows.push(
      ...await rateRows(
        udp,
        file,
        "UDP, 100,000 accounts, 1 client (v/s)",
        1,
        TARGET.large,
      ),
    );
  } finally {
    await stopTrio(udp);
  }
  return rows;
}

async function stopTrio(trio: Trio): Promise<void> {
  await Promise.all(
    [trio.ref, trio.ours, trio.floor].map((c) => c?.server.stop()),
  );
}

/** Command mode: the client runs the module once per validation. */
async function commandRow(file: BenchFile, name: string): Promise<Row> {
  const perValidation = async (module: string, count: number) => {
    const env = { CVM_PWFILE_PATH: file.path };
    await benchRate(module, 1, 1, () => credentialsOf(file), env); // warm-up
    const { rate } = await benchRate(
      module,
      count,
      1,
      () => credentialsOf(file),
      env,
    );
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

/**
 * One command-mode validation of ours against `deno run` of an empty file
 * (with the launcher's flags), alternating, both started the same way: the
 * median wall time of each; ours is held to 1.6 times the empty file's.
 */
async function startRow(file: BenchFile, dir: string): Promise<Row> {
  const empty = `${dir}/empty.ts`;
  Deno.writeTextFileSync(empty, "");
  const request = requestOf(file);
  const once = async (argv: string[]) => {
    const start = performance.now();
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: childEnv({ CVM_PWFILE_PATH: file.path }),
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(request).catch(() => {});
    await writer.close().catch(() => {});
    const status = await child.status;
    const ms = performance.now() - start;
    if (argv[0] === OUR_PWFILE && status.code !== 0) {
      throw new Error(`ours exited ${status.code}`);
    }
    return ms;
  };
  const ours: number[] = [];
  const blank: number[] = [];
  await once([OUR_PWFILE]);
  await once([...DENO_RUN, empty]);
  for (let i = 0; i < PLAN.starts; i++) {
    ours.push(await once([OUR_PWFILE]));
    blank.push(await once([...DENO_RUN, empty]));
  }
  const o = median(ours);
  const e = median(blank);
  log(`start-up: ${o.toFixed(1)} ms vs ${e.toFixed(1)} ms`);
  return {
    scenario: "command-mode validation against `deno run` of an empty file",
    reference: `${e.toFixed(1)} ms (empty)`,
    ours: `${o.toFixed(1)} ms (${(o / e).toFixed(2)}x)`,
    check: {
      value: o / e,
      max: TARGET.startVsEmpty,
      text: `<=${TARGET.startVsEmpty}x empty`,
    },
  };
}

/** Module rows: what cvm-pwfile (command mode) and cvm-testclient load. */
async function moduleRows(file: BenchFile, module: string): Promise<Row[]> {
  const request = requestOf(file);
  const env = { CVM_PWFILE_PATH: file.path };
  const runs: Array<[string, string[], Uint8Array]> = [
    ["cvm-pwfile, command mode", ["cvm-pwfile"], request],
    ["cvm-testclient, local socket", [
      "cvm-testclient",
      module,
      file.account,
      "",
      file.password,
    ], new Uint8Array(0)],
  ];
  const rows: Row[] = [];
  for (const [name, args, stdin] of runs) {
    try {
      const loaded = await modulesLoaded(args, { stdin, env });
      const strays = loaded.files.filter((f) =>
        NOT_FOR_LIGHT_PROGRAMS.some((room) => f.startsWith(room))
      );
      const unwanted = strays.length + loaded.npm.length;
      rows.push({
        scenario: `modules loaded: ${name}`,
        reference: "",
        ours: `${loaded.files.length} files, ${loaded.npm.length} npm, ${
          loaded.node.length === 0 ? "no node:" : loaded.node.join(" ")
        }`,
        check: {
          value: unwanted,
          max: 0,
          text: "no npm/sql/qmail/ldap/installer",
        },
      });
      if (unwanted > 0) {
        log(`${name} loaded ${[...strays, ...loaded.npm].join(", ")}`);
      }
    } catch (e) {
      rows.push({
        scenario: `modules loaded: ${name}`,
        reference: "",
        ours: "",
        error: describeFailure(e),
      });
    }
  }
  return rows;
}

/** Runs a scenario; a failure becomes an error row instead of ending the bench. */
async function guarded(
  scenario: string,
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
  return await ensureBuilt(OUR_PWFILE);
}

/**
 * Runs the whole benchmark and prints the table and the summary line.
 *
 * @returns The rows printed (the exit status is 0 whatever they say).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./bench.ts";
 * // `deno task bench` runs it: minutes of load on every core, so not here.
 * const run: () => Promise<unknown[]> = main;
 * assert.equal(typeof run, "function");
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
    rows.push(
      ...await guarded("2 accounts", () => smallScenario(small, dir)),
      ...await guarded("100,000 accounts", () => largeScenario(large, dir)),
    );
    for (
      const [file, name] of [[small, "2 accounts"], [
        large,
        "100,000 accounts",
      ]] as const
    ) {
      rows.push(
        ...await guarded(
          `command mode, ${name}`,
          async () => [await commandRow(file, name)],
        ),
      );
    }
    rows.push(
      ...await guarded("start-up", async () => [await startRow(small, dir)]),
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
      `ours/ref = how many times faster ours is; a floor row is a bare Deno server, for what Deno itself costs)\n`,
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
