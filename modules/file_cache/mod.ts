/**
 * Files read again only when they change: the cache every file-backed
 * module serves from (cvm-pwfile, cvm-qmail, cvm-vmailmgr, cvm-vchkpw,
 * cvm-cdb); and files replaced whole, beside the old and renamed over it,
 * by writers that take turns under a lock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFileSafely } from "./mod.ts";
 * assert.equal(readFileSafely("/nonexistent").ok, false);
 * ```
 *
 * @module
 */
export * from "./cached_file.ts";
export * from "./file_identity.ts";
export * from "./file_lock.ts";
export * from "./replace_file.ts";
