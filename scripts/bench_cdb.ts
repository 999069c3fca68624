/**
 * Performance of cvm-cdb, as ratios measured in the same run:
 *
 * - command mode (one process per validation, the reference's
 *   `cvm-testclient` starting the module): cvm-cdb on 100,000 accounts
 *   against cvm-cdb on 2 (the cost must not grow with the file), and
 *   against cvm-pwfile on the same 100,000 accounts (ours, and the
 *   reference's for scale);
 * - a local-socket server driven by the reference's `cvm-benchclient`:
 *   cvm-cdb-local against the reference's `cvm-pwfile` on the same
 *   accounts, 2 and 100,000 of them.
 *
 * Each figure is the median of several alternating runs. A report, not a
 * test: it exits 0 whatever the figures. Usage:
 *
 *     deno run --allow-all scripts/bench_cdb.ts [--quick]
 *
 * `deno task bench` runs it too (its default export returns the rows).
 *
 * @module
 */

import { makeCdb } from "../modules/cdb/mod.ts";
import { type BenchFile, writeAccountFile } from "./_bench_data.ts";
import {
  childEnv,
  runTimed,
  type Server,
  startServer,
  stopAll,
} from "./_bench_proc.ts";
import { atLeast, formatRate, renderTable, type Row } from "./_bench_table.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const REF = "/usr/bin";
const OURS = `${ROOT}/dist`;

/** Runs and sizes, sized for about a minute on 2 noisy cores. */
const FULL = { repetitions: 3, commandRuns: 7, serverSeconds: 2 };
const QUICK = { repetitions: 3, commandRuns: 3, serverSeconds: 0.5 };

const log = (text: string) => console.error(`bench_cdb: ${text}`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The same accounts as a cvm-cdb store: key the lower-cased name, value the line. */
async function writeCdbStore(file: BenchFile, path: string): Promise<void> {
  const text = await Deno.readTextFile(file.path);
  const records = text.split("\n").filter((l) => l !== "").map((line) =>
    [line.slice(0, line.indexOf(":")).toLowerCase(), line] as const
  );
  await Deno.writeFile(path, makeCdb(records));
}

/** A module and the environment that points it at the accounts. */
interface Target {
  label: string;
  program: string;
  env: Record<string, string>;
}

/** Milliseconds per command-mode validation: `runs` testclient runs, timed one by one. */
async function commandMs(target: Target, file: BenchFile, runs: number) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runTimed(
      [
        `${REF}/cvm-testclient`,
        target.program,
        file.account,
        "",
        file.password,
      ],
      childEnv(target.env),
    );
    if (r.code !== 0) {
      throw new Error(`${target.label}: testclient exit ${r.code} ${r.stderr}`);
    }
    times.push(r.seconds * 1000);
  }
  return median(times);
}

/** Medians of alternating runs of several measurements. */
async function alternate(
  repetitions: number,
  measures: Array<() => Promise<number>>,
): Promise<number[]> {
  const runs = measures.map(() => [] as number[]);
  for (let i = 0; i < repetitions; i++) {
    for (const [j, measure] of measures.entries()) {
      runs[j].push(await measure());
    }
  }
  return runs.map(median);
}

/** Runs `count` validations with a benchclient; validations per second. */
async function benchRate(
  module: string,
  file: BenchFile,
  count: number,
): Promise<number> {
  const r = await runTimed(
    [
      `${REF}/cvm-benchclient`,
      String(count),
      module,
      file.account,
      "",
      file.password,
    ],
    childEnv({}),
  );
  if (r.code !== 0) throw new Error(`benchclient exit ${r.code} ${r.stderr}`);
  return count / r.seconds;
}

/**
 * A measurement of a server's rate whose runs last about `seconds`: the
 * count is sized once, from runs of growing size (which warm it up).
 */
async function serverMeasure(
  module: string,
  file: BenchFile,
  seconds: number,
): Promise<() => Promise<number>> {
  let count = 10;
  for (;;) {
    const rate = await benchRate(module, file, count);
    if (count / rate >= seconds / 4 || count >= 1_000_000) {
      const sized = Math.max(1, Math.round(rate * seconds));
      return () => benchRate(module, file, sized);
    }
    count *= 4;
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

/**
 * Runs the cdb benchmark and prints its table.
 *
 * @param options `quick`: fewer and shorter runs.
 * @returns The rows (for `deno task bench`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import benchCdb from "./bench_cdb.ts";
 * const rows = await benchCdb({ quick: true }); // prints its table too
 * assert.ok(rows.length > 0);
 * ```
 */
export default async function benchCdb(
  options: { quick?: boolean } = {},
): Promise<Row[]> {
  const plan = options.quick ? QUICK : FULL;
  for (const program of ["cvm-testclient", "cvm-benchclient", "cvm-pwfile"]) {
    try {
      await Deno.stat(`${REF}/${program}`);
    } catch {
      console.log(`cdb bench: skipped: ${REF}/${program} is not installed`);
      return [];
    }
  }
  try {
    await Deno.stat(`${OURS}/cvm-cdb`);
  } catch {
    log("dist/cvm-cdb is missing: building the launcher");
    const build = await runTimed(
      ["bash", `${ROOT}/scripts/compile.sh`, "--launcher"],
      childEnv({}),
    );
    if (build.code !== 0) {
      console.log(`cdb bench: cannot build: ${build.stderr}`);
      return [];
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "cvm-bench-cdb-" });
  const rows: Row[] = [];
  const servers: Server[] = [];
  try {
    const small = await writeAccountFile(`${dir}/passwd-2`, 2);
    const large = await writeAccountFile(`${dir}/passwd-100000`, 100_000);
    await writeCdbStore(small, `${dir}/small.cdb`);
    await writeCdbStore(large, `${dir}/large.cdb`);
    const cdb = (path: string): Target => ({
      label: "cvm-cdb",
      program: `${OURS}/cvm-cdb`,
      env: { CVM_CDB_PATH: path, CVM_CDB_PWCMP: "plain" },
    });
    const pwfile = (program: string): Target => ({
      label: program,
      program,
      env: { CVM_PWFILE_PATH: large.path },
    });

    log("command mode: cvm-cdb (2 and 100,000 accounts), cvm-pwfile");
    // A warm-up: the page cache, deno's module cache.
    await commandMs(cdb(`${dir}/small.cdb`), small, 2);
    await commandMs(pwfile(`${OURS}/cvm-pwfile`), large, 1);
    const [cdbSmall, cdbLarge, pwfileLarge, refLarge] = await alternate(
      plan.repetitions,
      [
        () => commandMs(cdb(`${dir}/small.cdb`), small, plan.commandRuns),
        () => commandMs(cdb(`${dir}/large.cdb`), large, plan.commandRuns),
        () => commandMs(pwfile(`${OURS}/cvm-pwfile`), large, plan.commandRuns),
        () => commandMs(pwfile(`${REF}/cvm-pwfile`), large, plan.commandRuns),
      ],
    );
    rows.push(
      {
        // The cost must not grow with the file: 100,000 as cheap as 2.
        scenario: "cdb command mode: 2 vs 100,000 accounts (per validation)",
        reference: ms(cdbSmall),
        ours: ms(cdbLarge),
        ratio: cdbSmall / cdbLarge,
        check: atLeast(cdbSmall / cdbLarge, 0.8),
      },
      {
        scenario: "command mode, 100,000 accounts: our cvm-pwfile vs cvm-cdb",
        reference: ms(pwfileLarge),
        ours: ms(cdbLarge),
        ratio: pwfileLarge / cdbLarge,
        check: atLeast(pwfileLarge / cdbLarge, 1),
      },
      {
        scenario:
          "command mode, 100,000 accounts: reference cvm-pwfile vs cvm-cdb",
        reference: ms(refLarge),
        ours: ms(cdbLarge),
        ratio: refLarge / cdbLarge,
      },
    );

    const sizes = [
      [small, "small", "2", 0.5],
      [large, "large", "100,000", 20],
    ] as const;
    for (const [file, store, name, target] of sizes) {
      log(`local socket: reference cvm-pwfile against cvm-cdb-local, ${name}`);
      const refSocket = `${dir}/ref-${store}.sock`;
      const ourSocket = `${dir}/ours-${store}.sock`;
      const ref = startServer(
        "reference cvm-pwfile",
        [`${REF}/cvm-pwfile`, `cvm-local:${refSocket}`],
        childEnv({ CVM_PWFILE_PATH: file.path }),
        `${dir}/ref-${store}.log`,
      );
      const ours = startServer(
        "cvm-cdb-local",
        [`${OURS}/cvm-cdb-local`, ourSocket],
        childEnv({
          CVM_CDB_PATH: `${dir}/${store}.cdb`,
          CVM_CDB_PWCMP: "plain",
        }),
        `${dir}/ours-${store}.log`,
      );
      servers.push(ref, ours);
      await ref.waitFor("Starting.", 10_000);
      await ours.waitFor("Starting.", 10_000);
      const [refRate, ourRate] = await alternate(plan.repetitions, [
        await serverMeasure(`cvm-local:${refSocket}`, file, plan.serverSeconds),
        await serverMeasure(`cvm-local:${ourSocket}`, file, plan.serverSeconds),
      ]);
      rows.push({
        scenario: `local socket, ${name} accounts: cvm-pwfile vs cvm-cdb-local`,
        reference: `${formatRate(refRate)}/s`,
        ours: `${formatRate(ourRate)}/s`,
        ratio: ourRate / refRate,
        check: atLeast(ourRate / refRate, target),
      });
      await ref.stop();
      await ours.stop();
    }
  } catch (e) {
    console.log(`cdb bench: failed: ${e instanceof Error ? e.message : e}`);
    rows.push({
      scenario: "cdb bench",
      reference: "",
      ours: "",
      error: "failed",
    });
  } finally {
    for (const server of servers) await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  console.log(
    `\ncvm-cdb (median of ${plan.repetitions} alternating runs; command mode: ` +
      `${plan.commandRuns} validations of ${REF}/cvm-testclient each; servers: ` +
      `${REF}/cvm-benchclient for ~${plan.serverSeconds} s; ratio = how many ` +
      `times faster the right-hand column is)\n`,
  );
  console.log(renderTable(rows));
  return rows;
}

if (import.meta.main) {
  try {
    await benchCdb({ quick: Deno.args.includes("--quick") });
  } finally {
    await stopAll();
  }
  Deno.exit(0);
}
