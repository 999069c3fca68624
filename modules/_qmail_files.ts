/**
 * Small helpers shared by the qmail-based modules (cvm-qmail,
 * cvm-vmailmgr, cvm-vchkpw): ASCII lower-casing as C's `tolower` does, and
 * the errno-style classification of file errors. Files re-read on change
 * are `CachedFile` in `cached_file.ts`.
 *
 * @module
 */

/**
 * Lower-cases the ASCII letters of a string only, as C's `tolower` in the
 * "C" locale does (qmail and the reference lower-case this way).
 *
 * @param text The text.
 * @returns The text with A–Z turned into a–z.
 * @example
 * ```ts
 * import { asciiLower } from "./_qmail_files.ts";
 * asciiLower("Bob-ÄX"); // "bob-Äx"
 * ```
 */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Tells whether an error from a Deno file operation is ENOENT.
 *
 * @param e The error.
 * @returns True for "no such file or directory".
 * @example
 * ```ts
 * import { isNotFound } from "./_qmail_files.ts";
 * try { Deno.statSync("/nonexistent"); } catch (e) { isNotFound(e); } // true
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
 * import { isPermissionDenied } from "./_qmail_files.ts";
 * isPermissionDenied(new Deno.errors.PermissionDenied()); // true
 * ```
 */
export function isPermissionDenied(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied;
}
