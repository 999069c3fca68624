/**
 * D. J. Bernstein's constant databases: a reader and a writer whose output
 * is byte-identical to tinycdb's. A library, not a module: cvm-qmail,
 * cvm-vmailmgr, cvm-vchkpw and cvm-cdb read their users and passwords
 * through it; `cdbFileGet` looks one key up on disk without reading the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cdb, makeCdb } from "./mod.ts";
 * const db = Cdb.fromBytes(makeCdb([["bob", "1000"]]));
 * assert.deepEqual(db.get("bob"), new TextEncoder().encode("1000"));
 * ```
 *
 * @module
 */
export * from "./reader.ts";
export * from "./writer.ts";
export * from "./file_lookup.ts";
