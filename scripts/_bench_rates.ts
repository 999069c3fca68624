/**
 * Validation rates for the benchmarks, measured the one way every figure
 * of `deno task bench` is: the reference's `cvm-benchclient` as the only
 * client, the contestants (the reference's module, ours, a floor) in
 * alternating runs so that noise on the machine hits them alike, the
 * median of the runs reported.
 *
 * @module
 */

import { childEnv, runTimed } from "./_bench_proc.ts";
import { atLeast, formatRate, type Row } from "./_bench_table.ts";

/** The reference's benchmark client: it drives every measurement. */
export const REF_BENCHCLIENT = "/usr/bin/cvm-benchclient";

/** What a client sends: account, domain and password. */
export interface Credentials {
  /** The account name. */
  account: string;
  /** The domain ("" for none). */
  domain: string;
  /** The password. */
  password: string;
}

/** One contestant: a module string to validate against. */
export interface Contestant {
  /** Its name in the results. */
  name: string;
  /** The module string, e.g. `cvm-local:/tmp/ours.sock`. */
  module: string;
}

/** One contestant's rate, or why it could not be measured. */
export type Outcome = { rate: number; runs: number[] } | { error: string };

/** How long and how often to measure. */
export interface RatePlan {
  /** Clients at once (each a cvm-benchclient process). */
  clients: number;
  /** Seconds a run should last (the count is sized from a warm-up). */
  seconds: number;
  /** Runs per contestant; the median is reported. */
  repetitions: number;
  /** Seconds a warm-up run should last at least. */
  warmupSeconds: number;
}

/**
 * The median of some numbers.
 *
 * @param values The numbers (at least one).
 * @returns The middle one, or the mean of the middle two.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./_bench_rates.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Thrown when a client run fails; the message goes into the report. */
export class RunFailure extends Error {}

/**
 * Runs `clients` cvm-benchclients at once, each validating `count` times;
 * the total validations per second. Client `k` uses `credentials(k)`.
 *
 * @param module The module string.
 * @param count Validations per client.
 * @param clients How many clients.
 * @param credentials What client `k` sends.
 * @param env Extra environment for the clients (e.g. a command module's).
 * @returns The rate and the wall time.
 * @throws {RunFailure} When a client exits non-zero (it stops at the first failure).
 */
export async function benchRate(
  module: string,
  count: number,
  clients: number,
  credentials: (client: number) => Credentials,
  env: Record<string, string> = {},
): Promise<{ rate: number; seconds: number }> {
  const start = performance.now();
  const results = await Promise.all(
    Array.from({ length: clients }, (_, k) => {
      const { account, domain, password } = credentials(k);
      return runTimed(
        [REF_BENCHCLIENT, String(count), module, account, domain, password],
        childEnv(env),
      );
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length > 0) {
    const said = failed[0].stderr
      ? `: ${failed[0].stderr.split("\n").pop()}`
      : "";
    throw new RunFailure(
      `${failed.length}/${clients} clients failed (exit ${
        failed[0].code
      }${said})`,
    );
  }
  return { rate: (count * clients) / seconds, seconds };
}

/**
 * Warms a module up and estimates its rate at `clients`: runs of growing
 * size until one lasts at least `plan.warmupSeconds`.
 */
async function calibrate(
  module: string,
  plan: RatePlan,
  credentials: (client: number) => Credentials,
  env: Record<string, string>,
): Promise<number> {
  let count = 10;
  for (;;) {
    const { rate, seconds } = await benchRate(
      module,
      count,
      plan.clients,
      credentials,
      env,
    );
    if (seconds >= plan.warmupSeconds || count >= 2_000_000) return rate;
    const grow = Math.min(
      20,
      Math.max(2, (plan.warmupSeconds * 1.3) / Math.max(seconds, 0.001)),
    );
    count = Math.ceil(count * grow);
  }
}

/**
 * Measures every contestant: a warm-up sizes each one's runs to last
 * `plan.seconds`, then `plan.repetitions` rounds in which each runs once,
 * in turn; each contestant's median rate.
 *
 * @param contestants The modules to measure.
 * @param plan Clients, run length, repetitions.
 * @param credentials What client `k` sends.
 * @param env Extra environment for the clients.
 * @returns Each contestant's outcome, by name.
 */
export async function measureRates(
  contestants: readonly Contestant[],
  plan: RatePlan,
  credentials: (client: number) => Credentials,
  env: Record<string, string> = {},
): Promise<Map<string, Outcome>> {
  const sides = contestants.map((c) => ({
    ...c,
    count: 0,
    runs: [] as number[],
    error: undefined as string | undefined,
  }));
  for (const side of sides) {
    try {
      const estimate = await calibrate(side.module, plan, credentials, env);
      side.count = Math.max(
        5,
        Math.round(estimate * plan.seconds / plan.clients),
      );
    } catch (e) {
      side.error = e instanceof Error ? e.message : String(e);
    }
  }
  for (let i = 0; i < plan.repetitions; i++) {
    for (const side of sides) {
      if (side.error !== undefined) continue;
      try {
        const { rate } = await benchRate(
          side.module,
          side.count,
          plan.clients,
          credentials,
          env,
        );
        side.runs.push(rate);
      } catch (e) {
        side.error = e instanceof Error ? e.message : String(e);
      }
    }
  }
  return new Map(sides.map((side) => [
    side.name,
    side.error !== undefined
      ? { error: side.error }
      : { rate: median(side.runs), runs: side.runs },
  ]));
}

/**
 * A row of two rates: a contestant's against the reference's, with the
 * ratio (how many times faster) and, given `min`, the target it must meet.
 *
 * @param scenario What was measured.
 * @param ref The reference's outcome.
 * @param other The contestant's outcome (ours, or a floor).
 * @param min The least ratio asked for, if any.
 * @param who The contestant's name, for a failure.
 * @returns The row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateRow } from "./_bench_rates.ts";
 * assert.equal(rateRow("x", { rate: 100, runs: [100] }, { rate: 150, runs: [150] }, 1).ratio, 1.5);
 * ```
 */
export function rateRow(
  scenario: string,
  ref: Outcome | undefined,
  other: Outcome | undefined,
  min?: number,
  who = "ours",
): Row {
  const rate = (o?: Outcome) => o && "rate" in o ? o.rate : undefined;
  const errors = [
    ref && "error" in ref ? `reference: ${ref.error}` : undefined,
    other && "error" in other ? `${who}: ${other.error}` : undefined,
  ].filter((e) => e !== undefined);
  const r = rate(ref);
  const o = rate(other);
  const ratio = r !== undefined && o !== undefined ? o / r : undefined;
  return {
    scenario,
    reference: r === undefined ? "" : formatRate(r),
    ours: o === undefined ? "" : formatRate(o),
    ratio,
    check: min === undefined ? undefined : atLeast(ratio, min),
    error: errors.length > 0 ? errors.join("; ") : undefined,
  };
}
