/**
 * Small file helpers shared by the qmail-based modules (cvm-qmail,
 * cvm-vmailmgr, cvm-vchkpw): synchronous reads that are re-done only when
 * the file changes (one `stat` per request), ASCII lower-casing as C's
 * `tolower` does, and the errno-style classification of file errors.
 *
 * Everything here is synchronous on purpose: cvm-qmail may switch its
 * effective user id for a moment (`$CVM_QMAIL_CHECK_PERMS`), and no
 * asynchronous file operation of this process may be in flight meanwhile.
 *
 * @module
 */

import {
  type CdbFileIdentity,
  cdbFileIdentity,
  sameCdbFileIdentity,
} from "./cdb.ts";

/** The outcome of reading a file: its bytes, or why there are none. */
export type FileRead =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; missing: boolean; error: unknown };

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

/**
 * Reads a whole file synchronously, telling a missing file apart from
 * other failures (a directory, no permission, an I/O error).
 *
 * @param path The file.
 * @returns The bytes, or the error and whether it was ENOENT.
 * @example
 * ```ts
 * import { readFileSafely } from "./_qmail_files.ts";
 * readFileSafely("/nonexistent"); // { ok: false, missing: true, error }
 * ```
 */
export function readFileSafely(path: string): FileRead {
  try {
    return { ok: true, bytes: Deno.readFileSync(path) };
  } catch (e) {
    return { ok: false, missing: isNotFound(e), error: e };
  }
}

/**
 * A file whose parsed contents are kept until the file changes: every
 * `get()` costs one `stat`; the file is read and parsed again only when
 * its identity (device, inode, size, mtime, ctime) differs or it
 * appeared or disappeared.
 *
 * @example
 * ```ts
 * import { CachedFile } from "./_qmail_files.ts";
 * const locals = new CachedFile("/var/qmail/control/locals", (r) =>
 *   r.ok ? new TextDecoder().decode(r.bytes).split("\n") : []);
 * locals.get(); // parsed lines, re-read only after a change
 * ```
 */
export class CachedFile<T> {
  readonly #path: string;
  readonly #parse: (read: FileRead) => T;
  #identity: CdbFileIdentity | null | undefined = undefined;
  #cached: { value: T } | undefined;

  /**
   * @param path The file.
   * @param parse Turns a read (bytes or failure) into the cached value; it
   *   may throw, in which case nothing is cached and `get()` throws too.
   */
  constructor(path: string, parse: (read: FileRead) => T) {
    this.#path = path;
    this.#parse = parse;
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * The parsed contents, read again if the file changed since last time.
   *
   * @returns The value `parse` made of the current file.
   */
  get(): T {
    let identity: CdbFileIdentity | null;
    try {
      identity = cdbFileIdentity(Deno.statSync(this.#path));
    } catch {
      identity = null;
    }
    const same = this.#identity !== undefined && (
      identity === null ? this.#identity === null : this.#identity !== null &&
        sameCdbFileIdentity(this.#identity, identity)
    );
    if (!same || this.#cached === undefined) {
      // A failed stat still reads: the read reports why (ENOENT or not).
      this.#cached = { value: this.#parse(readFileSafely(this.#path)) };
      this.#identity = identity;
    }
    return this.#cached.value;
  }
}
