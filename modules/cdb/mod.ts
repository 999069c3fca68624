/**
 * D. J. Bernstein's constant databases: a reader and a writer whose output
 * is byte-identical to tinycdb's. A library, not a module: cvm-qmail,
 * cvm-vmailmgr and cvm-vchkpw read their users and passwords through it.
 *
 * @example
 * ```ts
 * import { Cdb, makeCdb } from "./mod.ts";
 * const db = Cdb.fromBytes(makeCdb([["bob", "1000"]]));
 * db.get("bob"); // the bytes of "1000"
 * ```
 *
 * @module
 */
export * from "./reader.ts";
export * from "./writer.ts";
