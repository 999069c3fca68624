/**
 * Small helpers shared by the qmail-based modules (cvm-qmail,
 * cvm-vmailmgr, cvm-vchkpw): the errno-style classification of file
 * errors. Names are folded with `asciiLower` (`protocol/text.ts`); files
 * re-read on change are `CachedFile` in `cached_file.ts`.
 *
 * @module
 */

/**
 * Tells whether an error from a Deno file operation is ENOENT.
 *
 * @param e The error.
 * @returns True for "no such file or directory".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNotFound } from "./files.ts";
 * assert.throws(() => Deno.statSync("/nonexistent"), (e) => isNotFound(e));
 * assert.equal(isNotFound(new Error("other")), false);
 * ```
 */
export function isNotFound(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound;
}

/**
 * Tells whether an error from a Deno file operation is EACCES or EPERM.
 *
 * @param e The error.
 * @returns True for a permission error.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPermissionDenied } from "./files.ts";
 * assert.equal(isPermissionDenied(new Deno.errors.PermissionDenied()), true);
 * ```
 */
export function isPermissionDenied(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied;
}
