/**
 * cvm-cdb and its account store: accounts in a cdb file keyed by name
 * (folded to ASCII lower case), each value a passwd-format line; the
 * module (`createCdbBackend`), and the store that `cvm cdbpasswd`
 * (admin/cdbpasswd.ts) and upgrade on login change under a lock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accountKey, parseAccountLine } from "./mod.ts";
 * assert.equal(accountKey("Bob"), "bob");
 * assert.equal(parseAccountLine("bob:pw:1000:100::/home/bob:/bin/sh")?.uid, "1000");
 * ```
 *
 * @module
 */
export * from "./account_line.ts";
export * from "./account_store.ts";
export * from "./backend.ts";
