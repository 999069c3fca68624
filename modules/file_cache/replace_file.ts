/**
 * A file replaced whole: the new contents are written beside the old file
 * and renamed over it, so a reader opens either the old file or the new
 * one, never a partial one, and a crash leaves one of the two in place.
 *
 * @module
 */

/** Options for {@link replaceFile}. */
export interface ReplaceFileOptions {
  /**
   * Permission bits of the new file. Defaults to the old file's mode when
   * it exists, else 0o644. Applied exactly (the umask does not apply).
   */
  mode?: number;
  /** Owner of the new file. Defaults to the old file's owner, if any. */
  uid?: number;
  /** Group of the new file. Defaults to the old file's group, if any. */
  gid?: number;
}

/** Replacements in progress per target path, so same-process writes queue up. */
const inFlight = new Map<string, Promise<void>>();

/**
 * Replaces a file atomically: writes `bytes` to `<path>.tmp.<pid>` beside
 * the target, sets owner and mode, fsyncs, renames it over `path` and
 * fsyncs the directory.
 *
 * When `path` already exists its owner, group and mode are kept unless
 * given in `options`; if they cannot be kept (e.g. changing the owner
 * without privilege) the write fails and the old file is left untouched.
 * Concurrent calls for the same path from this process run one after the
 * other. Writers in different processes must agree through a lock
 * (`withFileLock`) when each one's change is made from what it read.
 *
 * @param path The file to create or replace.
 * @param bytes Its new contents.
 * @param options Mode, uid and gid for the new file.
 * @returns A promise that resolves once the new file is in place.
 * @throws {Error} file system errors; the temporary file is removed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceFile } from "./replace_file.ts";
 * const dir = Deno.makeTempDirSync();
 * await replaceFile(`${dir}/passwd`, new TextEncoder().encode("bob:x:1:1::/:\n"));
 * assert.equal(Deno.readTextFileSync(`${dir}/passwd`), "bob:x:1:1::/:\n");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function replaceFile(
  path: string,
  bytes: Uint8Array,
  options: ReplaceFileOptions = {},
): Promise<void> {
  const previous = inFlight.get(path) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() =>
    writeNow(path, bytes, options)
  );
  inFlight.set(path, run);
  const cleanup = () => {
    if (inFlight.get(path) === run) inFlight.delete(path);
  };
  run.then(cleanup, cleanup);
  return run;
}

async function writeNow(
  path: string,
  bytes: Uint8Array,
  options: ReplaceFileOptions,
): Promise<void> {
  let old: Deno.FileInfo | null = null;
  try {
    old = await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const mode = options.mode ?? (old ? old.mode! & 0o7777 : 0o644);
  const uid = options.uid ?? old?.uid ?? null;
  const gid = options.gid ?? old?.gid ?? null;

  const tmp = `${path}.tmp.${Deno.pid}`;
  // A leftover from an earlier crashed run with this same pid is ours.
  await Deno.remove(tmp).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const file = await Deno.open(tmp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    try {
      let written = 0;
      while (written < bytes.length) {
        written += await file.write(bytes.subarray(written));
      }
      const info = await file.stat();
      if (
        (uid !== null && uid !== info.uid) || (gid !== null && gid !== info.gid)
      ) {
        await Deno.chown(tmp, uid, gid);
      }
      // After chown, which may clear set-id bits.
      await Deno.chmod(tmp, mode);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDirectory(dirOf(path));
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/** Makes the rename durable; best effort where directories can't be synced. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(dir, { read: true });
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename stands.
  } finally {
    handle.close();
  }
}
