/**
 * The CVM client library: validate credentials with a module or a chain of
 * modules over command, local-socket or UDP transports (account splitting,
 * the lookup secret, the ucspi domain and the random tag included), print
 * facts as the reference's test client does, and turn facts into the
 * environment checkpassword hands on. The programs in this folder are thin
 * mains over it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitAccount } from "./mod.ts";
 * assert.deepEqual(splitAccount("bob@example.com", "", "@"), { account: "bob", domain: "example.com" });
 * ```
 *
 * @module
 */
export * from "./client.ts";
export * from "./facts_env.ts";
export * from "./report.ts";
export * from "./prometheus_text.ts";
export * from "./stats.ts";
