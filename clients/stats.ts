/**
 * `cvm stats ADDRESS`: reads a module server's metrics (`$CVM_METRICS`)
 * and prints them as a small table for a person.
 *
 * @module
 */

import { errorMessage } from "../protocol/mod.ts";
import { FatalError, writeStdout } from "../program.ts";
import {
  bucketQuantile,
  parsePrometheusText,
  type Sample,
} from "./prometheus_text.ts";

/** How long `cvm stats` waits for the server. */
const FETCH_TIMEOUT_MS = 5000;

function seconds(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  if (value === Infinity) return "over 30 s";
  return value < 1
    ? `${+(value * 1000).toFixed(2)} ms`
    : `${+value.toFixed(2)} s`;
}

/**
 * The table `cvm stats` prints for a set of samples.
 *
 * @param samples The parsed metrics.
 * @returns The lines, newline-terminated.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatStats } from "./stats.ts";
 * assert.equal(formatStats([{ name: "cvm_cache_hits_total", labels: {}, value: 4 }]).includes("cache hits"), true);
 * ```
 */
export function formatStats(samples: readonly Sample[]): string {
  const rows: [string, string][] = [];
  const one = (name: string) =>
    samples.find((s) => s.name === name && Object.keys(s.labels).length === 0)
      ?.value;
  for (const s of samples) {
    if (s.name !== "cvm_requests_total") continue;
    const code = Number(s.labels.code);
    rows.push([
      `requests ${s.labels.mode} ${s.labels.code} (${errorMessage(code)})`,
      String(s.value),
    ]);
  }
  const modes = new Set(
    samples.filter((s) => s.name === "cvm_request_duration_seconds_count")
      .map((s) => s.labels.mode),
  );
  for (const mode of modes) {
    const of = (name: string) =>
      samples.find((s) => s.name === name && s.labels.mode === mode)?.value;
    const count = of("cvm_request_duration_seconds_count") ?? 0;
    const sum = of("cvm_request_duration_seconds_sum") ?? 0;
    const buckets = samples
      .filter((s) =>
        s.name === "cvm_request_duration_seconds_bucket" &&
        s.labels.mode === mode
      )
      .map((s) => ({ le: Number(s.labels.le), count: s.value }));
    rows.push([`latency ${mode}: mean`, seconds(count ? sum / count : NaN)]);
    rows.push([
      `latency ${mode}: p50 at most`,
      seconds(bucketQuantile(buckets, 0.5)),
    ]);
    rows.push([
      `latency ${mode}: p99 at most`,
      seconds(bucketQuantile(buckets, 0.99)),
    ]);
  }
  const singles: [string, string][] = [
    ["backend temporary failures", "cvm_backend_temporary_failures_total"],
    ["cache hits", "cvm_cache_hits_total"],
    ["cache misses", "cvm_cache_misses_total"],
    ["cache stale answers", "cvm_cache_stale_total"],
    ["penalties active", "cvm_penalties_active"],
    ["requests in flight", "cvm_requests_in_flight"],
  ];
  for (const [label, name] of singles) {
    const value = one(name);
    if (value !== undefined) rows.push([label, String(value)]);
  }
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`)
    .join("");
}

/**
 * The URL `cvm stats` reads: `HOST:PORT`, `[IPV6]:PORT` or a bare `PORT`
 * (127.0.0.1), path `/metrics`.
 *
 * @param address The argument.
 * @returns The URL, or undefined when it is no address.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statsUrl } from "./stats.ts";
 * assert.equal(statsUrl("127.0.0.1:9117"), "http://127.0.0.1:9117/metrics");
 * assert.equal(statsUrl("9117"), "http://127.0.0.1:9117/metrics");
 * ```
 */
export function statsUrl(address: string): string | undefined {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?([0-9]{1,5})$/
    .exec(address);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    return undefined;
  }
  return `http://${match[1] ?? "127.0.0.1"}:${match[2]}/metrics`;
}

/**
 * `cvm stats ADDRESS`: fetches the metrics and prints the table. Exits 1
 * on a usage error, 111 when the server cannot be read.
 *
 * @param args The arguments after `stats`.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statsMain } from "./stats.ts";
 * const metrics = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   () => new Response('cvm_requests_total{mode="local",code="0"} 3\n'));
 * try {
 *   assert.equal(await statsMain([`127.0.0.1:${metrics.addr.port}`]), 0);
 * } finally {
 *   await metrics.shutdown();
 * }
 * ```
 */
export async function statsMain(args: readonly string[]): Promise<number> {
  const url = args.length === 1 ? statsUrl(args[0]) : undefined;
  if (url === undefined) {
    throw new FatalError(1, "usage: cvm stats HOST:PORT", "cvm stats");
  }
  let text: string;
  try {
    const reply = await fetch(url, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    text = await reply.text();
    if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
  } catch (e) {
    throw new FatalError(
      111,
      `cannot read ${url}: ${(e as Error).message}`,
      "cvm stats",
    );
  }
  let samples: Sample[];
  try {
    samples = parsePrometheusText(text);
  } catch (e) {
    throw new FatalError(111, `${url}: ${(e as Error).message}`, "cvm stats");
  }
  writeStdout(formatStats(samples));
  return 0;
}
