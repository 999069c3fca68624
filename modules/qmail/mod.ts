/**
 * The qmail family: cvm-qmail (lookup only: would qmail deliver to this
 * address?), cvm-vmailmgr and cvm-vchkpw (virtual users under a domain's
 * home), and what they share: qmail's control files, users/assign and
 * users/cdb, .qmail files, and vmailmgr's passwd.cdb entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteString } from "./mod.ts";
 * assert.equal(byteString(new Uint8Array([0x4a, 0xfc])), "J\u00fc");
 * ```
 *
 * @module
 */
export * from "./qmail.ts";
export * from "./vchkpw.ts";
export * from "./vmailmgr.ts";
export * from "./vmailmgr_entry.ts";
