/**
 * Which version of a file was read: device, inode, size, mtime and ctime,
 * compared with a fresh `stat` to see that a file was replaced or changed.
 *
 * @module
 */

/**
 * What identifies the version of a file that was read;
 * when any field differs from a fresh `stat`, the file has been replaced or
 * modified and should be read again.
 */
export interface FileIdentity {
  /** Device number of the file system holding the file. */
  dev: number;
  /** Inode number (changes when the file is replaced by rename). */
  ino: number;
  /** Size in bytes. */
  size: number;
  /** Modification time in milliseconds since the epoch, or null if unknown. */
  mtimeMs: number | null;
  /** Status change time in milliseconds since the epoch, or null if unknown. */
  ctimeMs: number | null;
}

/**
 * Extracts the identity fields (device, inode, size, mtime, ctime) from a
 * `Deno.FileInfo`.
 *
 * @param info The result of `Deno.stat`, `Deno.lstat` or `FsFile.stat`.
 * @returns The identity of that file version.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileIdentity } from "./file_identity.ts";
 * assert.equal(fileIdentity(await Deno.stat("/etc/passwd")).ino > 0, true);
 * ```
 */
export function fileIdentity(info: Deno.FileInfo): FileIdentity {
  return {
    dev: info.dev,
    ino: info.ino ?? 0,
    size: info.size,
    mtimeMs: info.mtime ? info.mtime.getTime() : null,
    ctimeMs: info.ctime ? info.ctime.getTime() : null,
  };
}

/**
 * Tells whether two file identities describe the same version of a file.
 *
 * @param a One identity.
 * @param b The other identity.
 * @returns True when device, inode, size, mtime and ctime are all equal.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileIdentity, sameFileIdentity } from "./file_identity.ts";
 * const before = fileIdentity(await Deno.stat("/etc/passwd"));
 * assert.equal(sameFileIdentity(before, fileIdentity(await Deno.stat("/etc/passwd"))), true);
 * ```
 */
export function sameFileIdentity(
  a: FileIdentity,
  b: FileIdentity,
): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size &&
    a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
