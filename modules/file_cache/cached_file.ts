/**
 * A file read again only when it changes: at most one `stat` a second (not
 * one per request: on a busy server that stat cost 8 to 20% of the rate), a
 * read and a parse only when its identity (device, inode, size, mtime,
 * ctime) differs or it appeared or disappeared, so a change is seen within
 * a second (the reference reads its files on every request; SIGHUP makes
 * ours read them at the next). Shared by every module that serves from files (cvm-pwfile, cvm-cdb,
 * cvm-qmail, cvm-vmailmgr, cvm-vchkpw).
 *
 * A file changed twice within one tick of the file system's clock keeps its
 * size and times, so its identity cannot tell the second change: a version
 * read while that young is read once more when the tick has surely passed
 * ({@linkcode RACY_MS}), as git treats a "racily clean" index entry.
 *
 * Synchronous on purpose: a local stat is cheaper than a thread hop, and
 * cvm-qmail may switch its effective user id for a moment
 * (`$CVM_QMAIL_CHECK_PERMS`) while no asynchronous file operation of this
 * process may be in flight.
 *
 * @module
 */

import { fileStamper } from "../../sys/mod.ts";
import { type FileIdentity, sameFileIdentity } from "./file_identity.ts";

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
 * import assert from "node:assert/strict";
 * import { readFileSafely } from "./cached_file.ts";
 * const read = readFileSafely("/nonexistent");
 * assert.equal(read.ok, false);
 * assert.equal(!read.ok && read.missing, true);
 * ```
 */
export function readFileSafely(path: string): FileRead {
  try {
    return { ok: true, bytes: Deno.readFileSync(path) };
  } catch (e) {
    return { ok: false, missing: e instanceof Deno.errors.NotFound, error: e };
  }
}

/**
 * How long a `stat` of a cached file stands before `get()` makes another:
 * a second, as issue 11 allows ("a changed file is seen within a second").
 */
export const RECHECK_MS = 1000;

/**
 * How young (by its mtime or ctime) a file read may be and still hide a
 * later change of the same size within the same clock tick: such a read is
 * repeated once this long after it. Two seconds cover the coarsest clocks
 * (FAT, some network file systems).
 */
export const RACY_MS = 2000;

/**
 * A file whose parsed contents are kept until the file changes: a `get()`
 * makes a `stat` (at most one per `recheckMs`, by default one a second);
 * the file is read and parsed again only when it changed, appeared or
 * disappeared, or once more after a read of a version too young to trust.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CachedFile } from "./cached_file.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "example.com\nexample.org");
 * const locals = new CachedFile(path, (r) =>
 *   r.ok ? new TextDecoder().decode(r.bytes).split("\n") : []);
 * assert.deepEqual(locals.get(), ["example.com", "example.org"]);
 * Deno.removeSync(path);
 * // Not looked at again within a second: the parsed lines stand.
 * assert.deepEqual(locals.get(), ["example.com", "example.org"]);
 * // With recheckMs 0 every get() looks: the removal is seen at once.
 * const eager = new CachedFile(path, (r) => r.ok, { recheckMs: 0 });
 * assert.equal(eager.get(), false);
 * ```
 */
export class CachedFile<T> {
  readonly #path: string;
  readonly #parse: (read: FileRead) => T;
  readonly #recheckMs: number;
  readonly #racyMs: number;
  /** A `stat` of the path (libc's, into one reused buffer: a few µs less than Deno's). */
  readonly #stat: () => FileIdentity | null;
  /**
   * What was parsed, the identity of the file it came from (null: no file),
   * and when (`Date.now()`) to read it again whatever its identity says
   * (Infinity: never; the version was old enough to trust).
   */
  #cached:
    | { identity: FileIdentity | null; value: T; rereadAt: number }
    | undefined;
  /** When the file was last looked at (`performance.now()`). */
  #checkedAt = -Infinity;

  /**
   * Makes the cache; nothing is read until the first `get()`.
   *
   * @param path The file.
   * @param parse Turns a read (bytes or failure) into the cached value; it
   *   may throw, in which case nothing is cached and `get()` throws too.
   * @param options `recheckMs`: how long a look at the file stands
   *   (default {@linkcode RECHECK_MS}; 0: a `stat` on every `get()`);
   *   `racyMs`: how young a version read is read again
   *   (default {@linkcode RACY_MS}).
   */
  constructor(
    path: string,
    parse: (read: FileRead) => T,
    options: { recheckMs?: number; racyMs?: number } = {},
  ) {
    this.#path = path;
    this.#parse = parse;
    this.#recheckMs = options.recheckMs ?? RECHECK_MS;
    this.#racyMs = options.racyMs ?? RACY_MS;
    this.#stat = fileStamper(path);
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * The parsed contents, read again if the file changed since it was last
   * looked at (at most `recheckMs` ago), or if the version read was too
   * young to trust and its time has passed.
   *
   * @returns The value `parse` made of the file.
   */
  get(): T {
    const now = performance.now();
    if (this.#cached !== undefined && now - this.#checkedAt < this.#recheckMs) {
      return this.#cached.value;
    }
    const identity = this.#stat();
    const cached = this.#cached;
    const wall = Date.now();
    const unchanged = cached !== undefined && wall < cached.rereadAt &&
      (cached.identity === null || identity === null
        ? cached.identity === identity
        : sameFileIdentity(cached.identity, identity));
    if (!unchanged) {
      // A failed stat still reads: the read reports why (ENOENT or not).
      const value = this.#parse(readFileSafely(this.#path));
      const changedAt = identity === null
        ? -Infinity
        : Math.max(identity.mtimeMs ?? wall, identity.ctimeMs ?? wall);
      const rereadAt = wall - changedAt < this.#racyMs
        ? wall + this.#racyMs
        : Infinity;
      this.#cached = { identity, value, rereadAt };
    }
    this.#checkedAt = now;
    return this.#cached!.value;
  }
}
