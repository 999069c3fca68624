/**
 * The SQL modules: one framework (the query template with bound
 * parameters, the column checks, the post-query, the per-query deadline)
 * and its three drivers, cvm-sqlite (node:sqlite), cvm-pgsql (postgres.js)
 * and cvm-mysql (mysql2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate } from "./mod.ts";
 * const s = compileTemplate("CVM_PGSQL_QUERY", "query", "SELECT 1 WHERE u=$account", "dollar");
 * assert.equal(s.text, "SELECT 1 WHERE u=$1");
 * ```
 *
 * @module
 */
export * from "./framework.ts";
export * from "./mysql.ts";
export * from "./pgsql.ts";
export * from "./sqlite.ts";
