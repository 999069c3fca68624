/**
 * One lookup in a cdb file on disk, reading only what the lookup needs: the
 * key's header entry, the hash slots it probes and the matching record. A
 * program that answers one request (command mode) pays the same for a
 * 100,000-record file as for a 2-record one, with no parse at start.
 *
 * @module
 */

import { CDB_HEADER_SIZE, cdbHash, toCdbBytes } from "./reader.ts";

function corrupt(what: string): Error {
  return new Error(`corrupt cdb: ${what}`);
}

/** Reads exactly `length` bytes at `position`, or throws "corrupt cdb". */
function readAt(
  file: Deno.FsFile,
  position: number,
  length: number,
  what: string,
): Uint8Array {
  const buffer = new Uint8Array(length);
  file.seekSync(position, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < length) {
    const n = file.readSync(buffer.subarray(filled));
    if (n === null || n === 0) {
      throw corrupt(`${what} at offset ${position} lies beyond the end`);
    }
    filled += n;
  }
  return buffer;
}

function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .getUint32(offset, true);
}

/**
 * Finds the first record stored under a key in an open cdb file, reading
 * only the header entry, the probed slots and the records whose hash
 * matches (a few small reads, whatever the file's size).
 *
 * @param file The open cdb file (its position is moved).
 * @param key The key, as bytes or a string (UTF-8 encoded).
 * @returns The first record's data, or undefined when the key is absent.
 * @throws {Error} "corrupt cdb: ..." when a position points outside the file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cdbFileGet, makeCdb } from "./mod.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeFileSync(path, makeCdb([["bob", "1000"]]));
 * using file = Deno.openSync(path);
 * assert.equal(new TextDecoder().decode(cdbFileGet(file, "bob")), "1000");
 * Deno.removeSync(path);
 * ```
 */
export function cdbFileGet(
  file: Deno.FsFile,
  key: Uint8Array | string,
): Uint8Array | undefined {
  const wanted = toCdbBytes(key);
  const hash = cdbHash(wanted);
  const head = readAt(file, (hash % 256) * 8, 8, "header entry");
  const table = u32(head, 0);
  const slots = u32(head, 4);
  if (slots === 0) return undefined;
  if (table < CDB_HEADER_SIZE) {
    throw corrupt(`hash table at ${table} lies inside the header`);
  }
  let slot = (hash >>> 8) % slots;
  let size: number | undefined;
  for (let probes = 0; probes < slots; probes++) {
    const entry = readAt(file, table + slot * 8, 8, "hash slot");
    const record = u32(entry, 4);
    if (record === 0) return undefined;
    if (u32(entry, 0) === hash) {
      if (record < CDB_HEADER_SIZE) {
        throw corrupt(`record at ${record} lies inside the header`);
      }
      const lengths = readAt(file, record, 8, "record header");
      const keyLength = u32(lengths, 0);
      const dataLength = u32(lengths, 4);
      if (keyLength === wanted.length) {
        // A corrupt length must not make us allocate gigabytes.
        size ??= file.statSync().size;
        if (record + 8 + keyLength + dataLength > size) {
          throw corrupt(`record at ${record} runs past the end of the file`);
        }
        const found = readAt(
          file,
          record + 8,
          keyLength + dataLength,
          "record",
        );
        if (found.subarray(0, keyLength).every((b, i) => b === wanted[i])) {
          return found.subarray(keyLength);
        }
      }
    }
    if (++slot === slots) slot = 0;
  }
  return undefined;
}

/**
 * The first record of an open cdb file (the first one added), reading
 * only the header and that record.
 *
 * @param file The open cdb file (its position is moved).
 * @returns `[key, data]`, or undefined for an empty database.
 * @throws {Error} "corrupt cdb: ..." when the record runs past the file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cdbFileFirst, makeCdb } from "./mod.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeFileSync(path, makeCdb([["a", "1"], ["b", "2"]]));
 * using file = Deno.openSync(path);
 * assert.equal(new TextDecoder().decode(cdbFileFirst(file)?.[1]), "1");
 * Deno.removeSync(path);
 * ```
 */
export function cdbFileFirst(
  file: Deno.FsFile,
): [Uint8Array, Uint8Array] | undefined {
  const header = readAt(file, 0, CDB_HEADER_SIZE, "header");
  let dataEnd = Infinity;
  for (let t = 0; t < 256; t++) dataEnd = Math.min(dataEnd, u32(header, t * 8));
  if (dataEnd < CDB_HEADER_SIZE + 8) return undefined;
  const lengths = readAt(file, CDB_HEADER_SIZE, 8, "record header");
  const keyLength = u32(lengths, 0);
  const dataLength = u32(lengths, 4);
  if (CDB_HEADER_SIZE + 8 + keyLength + dataLength > dataEnd) {
    throw corrupt("the first record overruns the record area");
  }
  const record = readAt(
    file,
    CDB_HEADER_SIZE + 8,
    keyLength + dataLength,
    "record",
  );
  return [record.slice(0, keyLength), record.slice(keyLength)];
}
