/**
 * The numbers a server keeps for Prometheus, through `prom-client`: requests
 * by mode and result code, a latency histogram, backend temporary failures,
 * cache hits, misses and stale answers, penalties active, and requests in
 * flight. Family names are fixed (docs and `cvm stats` read them).
 *
 * @module
 */

import type { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Latency buckets in seconds: a cache hit to a penalty at its cap. */
export const DURATION_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  20,
  30,
];

/** What the policy layers count. */
export interface PolicyMetrics {
  /** A request started: returns what to call with its result code when it ends. */
  begin(): (code: number) => void;
  /** The backend answered a temporary failure. */
  backendTemporaryFailure(): void;
  /** An answer came fresh from the cache. */
  cacheHit(): void;
  /** The cache had no fresh answer. */
  cacheMiss(): void;
  /** A stale answer stood in for a temporary failure. */
  cacheStale(): void;
  /** The exposition text. */
  text(): Promise<string>;
  /** The content type of the text. */
  readonly contentType: string;
}

/**
 * Makes the metric families in a registry of their own (nothing global, no
 * process metrics).
 *
 * @param mode The contact mode, the `mode` label: "command", "local" or "udp".
 * @param penaltiesActive Reads the penalty gauge when scraped.
 * @returns The metrics.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * const metrics = await createMetrics("local", () => 0);
 * metrics.begin()(0);
 * assert.equal((await metrics.text()).includes('cvm_requests_total{mode="local",code="0"} 1'), true);
 * ```
 */
export async function createMetrics(
  mode: string,
  penaltiesActive: () => number,
): Promise<PolicyMetrics> {
  const prom = await import("prom-client");
  const registry: Registry = new prom.Registry();
  const registers = [registry];
  const requests: Counter<"mode" | "code"> = new prom.Counter({
    name: "cvm_requests_total",
    help: "Requests answered, by contact mode and result code.",
    labelNames: ["mode", "code"],
    registers,
  });
  const duration: Histogram<"mode"> = new prom.Histogram({
    name: "cvm_request_duration_seconds",
    help: "Time from a request read to its answer, penalty waits included.",
    labelNames: ["mode"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const temporary: Counter = new prom.Counter({
    name: "cvm_backend_temporary_failures_total",
    help: "Backend answers that were temporary failures (not 0 or 100).",
    registers,
  });
  const hits: Counter = new prom.Counter({
    name: "cvm_cache_hits_total",
    help: "Answers served fresh from the cache.",
    registers,
  });
  const misses: Counter = new prom.Counter({
    name: "cvm_cache_misses_total",
    help: "Requests the cache had no fresh answer for.",
    registers,
  });
  const stale: Counter = new prom.Counter({
    name: "cvm_cache_stale_total",
    help: "Stale positive answers served while the backend failed.",
    registers,
  });
  new prom.Gauge({
    name: "cvm_penalties_active",
    help: "Addresses and accounts this server holds a penalty for.",
    registers,
    collect() {
      this.set(penaltiesActive());
    },
  });
  const inFlight: Gauge = new prom.Gauge({
    name: "cvm_requests_in_flight",
    help: "Requests being answered now.",
    registers,
  });
  // Every family shows from the start, at zero.
  requests.inc({ mode, code: "0" }, 0);
  return {
    begin() {
      const started = performance.now();
      inFlight.inc();
      return (code) => {
        inFlight.dec();
        requests.inc({ mode, code: String(code) });
        duration.observe({ mode }, (performance.now() - started) / 1000);
      };
    },
    backendTemporaryFailure: () => temporary.inc(),
    cacheHit: () => hits.inc(),
    cacheMiss: () => misses.inc(),
    cacheStale: () => stale.inc(),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
