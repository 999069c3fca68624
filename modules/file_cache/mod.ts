/**
 * Files read again only when they change: the cache every file-backed
 * module serves from (cvm-pwfile, cvm-qmail, cvm-vmailmgr, cvm-vchkpw).
 *
 * @example
 * ```ts
 * import { readFileSafely } from "./mod.ts";
 * readFileSafely("/nonexistent").ok; // false
 * ```
 *
 * @module
 */
export * from "./cached_file.ts";
export * from "./file_identity.ts";
