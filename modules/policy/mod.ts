/**
 * Policy layers that wrap any module's answers: allow/deny tables
 * (`$CVM_ACCESS`), a failure delay and a brute-force penalty per client
 * address and per account, an answer cache that can stand in while the
 * backend fails, Prometheus metrics, and state shared through Redis. Every
 * layer is off unless its variable is set. The runtime calls
 * {@linkcode createPolicy} once and hands each request to it with a
 * function that asks the backend; this room never imports a backend, nor
 * the runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPolicy } from "./mod.ts";
 * const policy = await createPolicy({}, { mode: "command", program: "cvm-pwfile",
 *   lookupMode: false, log: () => {}, warn: () => {} });
 * assert.equal(policy, undefined); // every layer is off
 * ```
 *
 * @module
 */
export * from "./access.ts";
export * from "./address.ts";
export * from "./cache.ts";
export * from "./credential_key.ts";
export * from "./metrics.ts";
export * from "./metrics_server.ts";
export * from "./penalty.ts";
export * from "./policy.ts";
export * from "./redis_store.ts";
export * from "./settings.ts";
export * from "./store.ts";
