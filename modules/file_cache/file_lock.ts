/**
 * A writers' lock for a file that is replaced whole (`replaceFile`): an
 * exclusive flock(2) on `<path>.lock`, a file beside it that is never
 * renamed, so every writer locks the same inode whichever version of the
 * data file it read. The kernel drops the lock when its holder exits, so a
 * writer that dies leaves nothing to clean up; `flock(1)` on the same lock
 * file takes part (`flock /etc/cvm/users.cdb.lock vi …`). Readers never
 * take it: they see the old file or the new one.
 *
 * @module
 */

/** Thrown when the lock stays taken past the wait allowed. */
export class FileLockTimeout extends Error {
  /**
   * Makes the error.
   *
   * @param lockPath The lock file.
   * @param waitedMs How long the caller waited.
   */
  constructor(lockPath: string, waitedMs: number) {
    super(`${lockPath} is still locked after ${waitedMs / 1000} s`);
    this.name = "FileLockTimeout";
  }
}

/** Options for {@link withFileLock}. */
export interface FileLockOptions {
  /** How long to wait for the lock, in milliseconds (default 10 s). */
  timeoutMs?: number;
}

/**
 * The lock file of a data file: its path with `.lock` added.
 *
 * @param path The data file.
 * @returns The lock file's path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockFilePath } from "./file_lock.ts";
 * assert.equal(lockFilePath("/etc/cvm/users.cdb"), "/etc/cvm/users.cdb.lock");
 * ```
 */
export function lockFilePath(path: string): string {
  return `${path}.lock`;
}

/** Opens (creating it when missing) the lock file; flock needs no write access. */
function openLockFile(lockPath: string): Deno.FsFile {
  try {
    return Deno.openSync(lockPath, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // It holds nothing secret; readable, so other users' writers can lock it.
  return Deno.openSync(lockPath, { write: true, create: true, mode: 0o644 });
}

/**
 * Runs `work` holding the writers' lock of `path`: an exclusive flock on
 * `<path>.lock`, waited for (polling, with growing pauses up to 50 ms) at
 * most `timeoutMs`. Two calls of this process exclude each other as two
 * processes do.
 *
 * @param path The data file whose writers must take turns.
 * @param work What to do holding the lock (read, change, `replaceFile`).
 * @param options How long to wait.
 * @returns What `work` returned.
 * @throws {FileLockTimeout} when the lock stays taken; file system errors
 *   opening the lock file; whatever `work` throws (the lock is released).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withFileLock } from "./file_lock.ts";
 * const path = `${Deno.makeTempDirSync()}/users.cdb`;
 * assert.equal(await withFileLock(path, () => Promise.resolve("changed")), "changed");
 * ```
 */
export async function withFileLock<T>(
  path: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const lockPath = lockFilePath(path);
  using lock = openLockFile(lockPath);
  const started = performance.now();
  let pause = 2;
  while (!lock.tryLockSync(true)) {
    if (performance.now() - started >= timeoutMs) {
      throw new FileLockTimeout(lockPath, timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 50);
  }
  try {
    return await work();
  } finally {
    lock.unlockSync();
  }
}
