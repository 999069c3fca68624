/**
 * Writer for D. J. Bernstein's constant database (cdb) format, producing
 * files byte-identical to tinycdb's `cdb -c` for the same records in the
 * same order.
 *
 * @module
 */

import { CDB_HEADER_SIZE, cdbHash, toCdbBytes } from "./reader.ts";
import { replaceFile, type ReplaceFileOptions } from "../file_cache/mod.ts";

/** The options of {@link writeCdbAtomic}: those of `replaceFile`. */
export type WriteCdbOptions = ReplaceFileOptions;

const MAX_CDB_SIZE = 0xffffffff;

/**
 * Builds a cdb file in memory from records, keeping duplicates and order.
 *
 * Each of the 256 hash tables gets twice as many slots as it has records
 * (as tinycdb does), records are placed in their tables in the order given
 * with linear probing, and empty tables point at the position where the
 * next table would start.
 *
 * @param records `[key, data]` pairs; strings are UTF-8 encoded.
 * @returns The bytes of the cdb file.
 * @throws {RangeError} if the file would exceed the format's 4 GiB limit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cdb } from "./reader.ts";
 * const bytes = makeCdb([["alice", "x"], ["bob", new Uint8Array([0, 1])]]);
 * assert.deepEqual(Cdb.fromBytes(bytes).get("bob"), new Uint8Array([0, 1]));
 * ```
 */
export function makeCdb(
  records: Iterable<readonly [Uint8Array | string, Uint8Array | string]>,
): Uint8Array {
  const keys: Uint8Array[] = [];
  const datas: Uint8Array[] = [];
  const counts = new Uint32Array(256);
  let dataEnd = CDB_HEADER_SIZE;
  for (const [k, d] of records) {
    const key = toCdbBytes(k);
    const data = toCdbBytes(d);
    keys.push(key);
    datas.push(data);
    dataEnd += 8 + key.length + data.length;
    if (dataEnd + keys.length * 16 > MAX_CDB_SIZE) {
      throw new RangeError("cdb would exceed the 4 GiB size limit");
    }
  }
  const n = keys.length;
  const out = new Uint8Array(dataEnd + n * 16);
  const view = new DataView(out.buffer);

  // Records, remembering each one's hash and position.
  const hashes = new Uint32Array(n);
  const positions = new Uint32Array(n);
  let pos = CDB_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const key = keys[i];
    const data = datas[i];
    const h = cdbHash(key);
    hashes[i] = h;
    positions[i] = pos;
    counts[h % 256]++;
    view.setUint32(pos, key.length, true);
    view.setUint32(pos + 4, data.length, true);
    out.set(key, pos + 8);
    out.set(data, pos + 8 + key.length);
    pos += 8 + key.length + data.length;
  }

  // Group record indexes by table, keeping their order.
  const starts = new Uint32Array(257);
  for (let t = 0; t < 256; t++) starts[t + 1] = starts[t] + counts[t];
  const fill = starts.slice(0, 256);
  const byTable = new Uint32Array(n);
  for (let i = 0; i < n; i++) byTable[fill[hashes[i] % 256]++] = i;

  // Hash tables, each of 2 × (its record count) slots, in table order.
  for (let t = 0; t < 256; t++) {
    const slots = counts[t] * 2;
    view.setUint32(t * 8, pos, true);
    view.setUint32(t * 8 + 4, slots, true);
    for (let j = starts[t]; j < starts[t + 1]; j++) {
      const i = byTable[j];
      let slot = (hashes[i] >>> 8) % slots;
      // A slot is free while its position is 0 (records start at 2048).
      while (view.getUint32(pos + slot * 8 + 4, true) !== 0) {
        if (++slot === slots) slot = 0;
      }
      view.setUint32(pos + slot * 8, hashes[i], true);
      view.setUint32(pos + slot * 8 + 4, positions[i], true);
    }
    pos += slots * 8;
  }
  return out;
}

/**
 * Writes a cdb file atomically: builds it in `<path>.tmp.<pid>` beside the
 * target, sets owner and mode, fsyncs, renames it over `path` and fsyncs
 * the directory, so a crash at any point leaves either the old or the new
 * file in place, never a partial one (see `replaceFile`).
 *
 * When `path` already exists its owner, group and mode are kept unless
 * given in `options`; if they cannot be kept (e.g. changing the owner
 * without privilege) the write fails and the old file is left untouched.
 * Concurrent calls for the same path from this process run one after the
 * other.
 *
 * @param path The cdb file to create or replace.
 * @param records `[key, data]` pairs, as for {@link makeCdb}.
 * @param options Mode, uid and gid for the new file.
 * @returns A promise that resolves once the new file is in place.
 * @throws {Error} file system errors; the temporary file is removed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeCdbAtomic } from "./writer.ts";
 * const dir = Deno.makeTempDirSync();
 * await writeCdbAtomic(`${dir}/users.cdb`, [["alice", "x"]], { mode: 0o640 });
 * assert.equal(Deno.statSync(`${dir}/users.cdb`).mode! & 0o777, 0o640);
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["users.cdb"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeCdbAtomic(
  path: string,
  records: Iterable<readonly [Uint8Array | string, Uint8Array | string]>,
  options: ReplaceFileOptions = {},
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = makeCdb(records);
  } catch (e) {
    return Promise.reject(e);
  }
  return replaceFile(path, bytes, options);
}
