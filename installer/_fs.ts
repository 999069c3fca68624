/**
 * File helpers of the installer: lstat and readlink that answer undefined
 * for a missing path, a file's SHA-256, atomic replacement, and a walk of a
 * directory tree that does not follow symlinks.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";

/**
 * lstat, or undefined when nothing is there.
 *
 * @param path The path.
 * @returns Its lstat, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lstat } from "./_fs.ts";
 * assert.equal(lstat("/nonexistent"), undefined);
 * ```
 */
export function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.NotADirectory) return undefined;
    throw e;
  }
}

/**
 * readlink, or undefined when it is not a symlink.
 *
 * @param path The path.
 * @returns The link's target as written, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLink } from "./_fs.ts";
 * assert.equal(readLink("/nonexistent"), undefined);
 * ```
 */
export function readLink(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The permission bits of a stat.
 *
 * @param info The stat.
 * @returns Its mode & 0o7777.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissions } from "./_fs.ts";
 * assert.equal(permissions(Deno.statSync("/")).toString(8), "755");
 * ```
 */
export function permissions(info: Deno.FileInfo): number {
  return (info.mode ?? 0) & 0o7777;
}

/**
 * The SHA-256 of a file, hex, read in pieces (deno itself is ~100 MB).
 *
 * @param path The file.
 * @returns The digest, or undefined when unreadable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileHash } from "./_fs.ts";
 * assert.equal(fileHash("/dev/null"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export function fileHash(path: string): string | undefined {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { read: true });
    const hash = createHash("sha256");
    const buf = new Uint8Array(1 << 20);
    for (let n; (n = file.readSync(buf)) !== null;) {
      hash.update(buf.subarray(0, n));
    }
    return hash.digest("hex");
  } catch {
    return undefined;
  } finally {
    file?.close();
  }
}

/**
 * Writes `path` through a temporary name in the same directory and a
 * rename, so a running program never sees half a file.
 *
 * @param path The final path.
 * @param write Writes the temporary file (or link) it is given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceAtomically } from "./_fs.ts";
 * const dir = Deno.makeTempDirSync();
 * replaceAtomically(`${dir}/x`, (tmp) => Deno.writeTextFileSync(tmp, "new\n"));
 * assert.equal(Deno.readTextFileSync(`${dir}/x`), "new\n");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function replaceAtomically(
  path: string,
  write: (tmp: string) => void,
): void {
  const tmp = join(dirname(path), `.${basename(path)}.cvm-install.${Deno.pid}`);
  try {
    write(tmp);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not created */ }
    throw e;
  }
}

/** What a walk finds: a path relative to the walked directory and its lstat. */
export interface WalkEntry {
  /** Relative to the walked directory, `/`-separated. */
  path: string;
  /** Its lstat. */
  info: Deno.FileInfo;
}

/**
 * Every file, symlink and directory under `dir` (not `dir` itself), parents
 * before children, sorted by name; symlinks are listed, never followed.
 *
 * @param dir The directory.
 * @returns The entries.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walk } from "./_fs.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/a`);
 * Deno.writeTextFileSync(`${dir}/a/b`, "");
 * assert.deepEqual(walk(dir).map((e) => e.path), ["a", "a/b"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function walk(dir: string): WalkEntry[] {
  const out: WalkEntry[] = [];
  const visit = (rel: string) => {
    const names = [...Deno.readDirSync(rel ? join(dir, rel) : dir)]
      .map((e) => e.name).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const info = Deno.lstatSync(join(dir, path));
      out.push({ path, info });
      if (info.isDirectory) visit(path);
    }
  };
  visit("");
  return out;
}
