/**
 * A file's version as stat(2) gives it (device, inode, size, mtime, ctime),
 * for the file caches that look at their file on every request. libc's
 * `stat` through FFI into one reused buffer costs about a third of
 * `Deno.statSync`, which builds a FileInfo with four Dates each time; on a
 * server answering thousands of requests a second that is the difference.
 * Where the layout is not known (not Linux on x86_64 or aarch64, or a libc
 * without a `stat` symbol) it falls back to `Deno.statSync`.
 *
 * @module
 */

import { cString, lazy } from "./ffi.ts";

/** What identifies the version of a file: compare two to see a change. */
export interface FileStamp {
  /** Device number of the file system holding the file. */
  dev: number;
  /** Inode number (changes when the file is replaced by rename). */
  ino: number;
  /** Size in bytes. */
  size: number;
  /** Modification time, milliseconds since the epoch (null: unknown). */
  mtimeMs: number | null;
  /** Status change time, milliseconds since the epoch (null: unknown). */
  ctimeMs: number | null;
}

/**
 * Where the fields sit in `struct stat`: the same on Linux for x86_64 and
 * aarch64 (glibc's and the kernel's generic layout), the only ones used.
 */
const OFFSET = { dev: 0, ino: 8, size: 48, mtime: 88, ctime: 104 } as const;
/** Larger than either architecture's `struct stat` (144 and 128 bytes). */
const STAT_SIZE = 144;

const libc = lazy(() => {
  if (
    Deno.build.os !== "linux" ||
    (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64")
  ) return undefined;
  try {
    // glibc exports stat itself since 2.33; an older one has only __xstat.
    return Deno.dlopen("libc.so.6", {
      stat: { parameters: ["buffer", "buffer"], result: "i32" },
    });
  } catch {
    return undefined;
  }
});

/** The stamp Deno's own stat gives (the fallback). */
function stampOfFileInfo(info: Deno.FileInfo): FileStamp {
  return {
    dev: info.dev,
    ino: info.ino ?? 0,
    size: info.size,
    mtimeMs: info.mtime ? info.mtime.getTime() : null,
    ctimeMs: info.ctime ? info.ctime.getTime() : null,
  };
}

/**
 * Makes a function that stats one path, again and again, cheaply.
 *
 * @param path The file.
 * @returns A function giving the file's stamp now, or null when the file
 *   cannot be stat'ed (missing, no permission on a directory, …).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileStamper } from "./stat.ts";
 * const dir = Deno.makeTempDirSync();
 * const stamp = fileStamper(`${dir}/f`);
 * assert.equal(stamp(), null);
 * Deno.writeTextFileSync(`${dir}/f`, "four");
 * const first = stamp()!;
 * assert.equal(first.size, 4);
 * assert.equal(first.ino, Deno.statSync(`${dir}/f`).ino);
 * assert.deepEqual(stamp(), first);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function fileStamper(path: string): () => FileStamp | null {
  const lib = libc();
  const name = cString(path);
  if (lib === undefined || name === undefined) {
    return () => {
      try {
        return stampOfFileInfo(Deno.statSync(path));
      } catch {
        return null;
      }
    };
  }
  const buffer = new Uint8Array(STAT_SIZE);
  const view = new DataView(buffer.buffer);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const ms = (at: number) =>
    Number(view.getBigInt64(at, true)) * 1000 +
    Number(view.getBigInt64(at + 8, true)) / 1e6;
  return () => {
    if (lib.symbols.stat(name, buffer) !== 0) return null;
    return {
      dev: u64(OFFSET.dev),
      ino: u64(OFFSET.ino),
      size: u64(OFFSET.size),
      mtimeMs: ms(OFFSET.mtime),
      ctimeMs: ms(OFFSET.ctime),
    };
  };
}
