/**
 * A file read again only when it changes: at most one `stat` a second
 * (not one per request), a read and a parse only when its identity
 * (device, inode, size, mtime, ctime) differs or it appeared or
 * disappeared, so a change is seen within a second. Shared by every module
 * that serves from files (cvm-pwfile, cvm-qmail, cvm-vmailmgr, cvm-vchkpw).
 *
 * Synchronous on purpose: a local stat is cheaper than a thread hop, and
 * cvm-qmail may switch its effective user id for a moment
 * (`$CVM_QMAIL_CHECK_PERMS`) while no asynchronous file operation of this
 * process may be in flight.
 *
 * @module
 */

import {
  type FileIdentity,
  fileIdentity,
  sameFileIdentity,
} from "./file_identity.ts";

/** The outcome of reading a file: its bytes, or why there are none. */
export type FileRead =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; missing: boolean; error: unknown };

/**
 * Reads a whole file synchronously, telling a missing file apart from
 * other failures (a directory, no permission, an I/O error).
 *
 * @param path The file.
 * @returns The bytes, or the error and whether it was ENOENT.
 * @example
 * ```ts
 * import { readFileSafely } from "./cached_file.ts";
 * readFileSafely("/nonexistent"); // { ok: false, missing: true, error }
 * ```
 */
export function readFileSafely(path: string): FileRead {
  try {
    return { ok: true, bytes: Deno.readFileSync(path) };
  } catch (e) {
    return { ok: false, missing: e instanceof Deno.errors.NotFound, error: e };
  }
}

/** How long a `stat` of a cached file stands before `get()` makes another. */
export const RECHECK_MS = 1000;

/**
 * A file whose parsed contents are kept until the file changes: a `get()`
 * makes a `stat` when the last one is older than `recheckMs` (one second
 * by default); the file is read and parsed again only when it changed,
 * appeared or disappeared.
 *
 * @example
 * ```ts
 * import { CachedFile } from "./cached_file.ts";
 * const locals = new CachedFile("/var/qmail/control/locals", (r) =>
 *   r.ok ? new TextDecoder().decode(r.bytes).split("\n") : []);
 * locals.get(); // parsed lines, re-read only after a change (seen within 1 s)
 * ```
 */
export class CachedFile<T> {
  readonly #path: string;
  readonly #parse: (read: FileRead) => T;
  readonly #recheckMs: number;
  /** What was parsed, and the identity of the file it came from (null: no file). */
  #cached: { identity: FileIdentity | null; value: T } | undefined;
  /** When the file was last looked at (`performance.now()`). */
  #checkedAt = -Infinity;

  /**
   * Makes the cache; nothing is read until the first `get()`.
   *
   * @param path The file.
   * @param parse Turns a read (bytes or failure) into the cached value; it
   *   may throw, in which case nothing is cached and `get()` throws too.
   * @param options `recheckMs`: how long a look at the file stands
   *   (default {@linkcode RECHECK_MS}; 0: a `stat` on every `get()`).
   */
  constructor(
    path: string,
    parse: (read: FileRead) => T,
    options: { recheckMs?: number } = {},
  ) {
    this.#path = path;
    this.#parse = parse;
    this.#recheckMs = options.recheckMs ?? RECHECK_MS;
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * The parsed contents, read again if the file changed since it was last
   * looked at (at most `recheckMs` ago).
   *
   * @returns The value `parse` made of the file.
   */
  get(): T {
    const now = performance.now();
    if (this.#cached !== undefined && now - this.#checkedAt < this.#recheckMs) {
      return this.#cached.value;
    }
    let identity: FileIdentity | null;
    try {
      identity = fileIdentity(Deno.statSync(this.#path));
    } catch {
      identity = null;
    }
    const was = this.#cached?.identity;
    const unchanged = this.#cached !== undefined &&
      (was === null || identity === null
        ? was === identity
        : sameFileIdentity(was!, identity));
    if (!unchanged) {
      // A failed stat still reads: the read reports why (ENOENT or not).
      const value = this.#parse(readFileSafely(this.#path));
      this.#cached = { identity, value };
    }
    this.#checkedAt = now;
    return this.#cached!.value;
  }
}
