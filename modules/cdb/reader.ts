/**
 * Reader for D. J. Bernstein's constant database (cdb) format.
 *
 * Layout: a 2048-byte header of 256 (position, slot count) pairs, then the
 * records (key length, data length, key, data), then 256 hash tables of
 * (hash, record position) slots. Every number is a little-endian u32.
 *
 * @module
 */

import {
  type FileIdentity,
  fileIdentity,
  sameFileIdentity,
} from "../file_cache/mod.ts";

/** The size in bytes of a cdb file's header (256 pairs of u32). */
export const CDB_HEADER_SIZE = 2048;

const encoder = new TextEncoder();

/**
 * Converts a key or value given as a string (UTF-8 encoded) or bytes to bytes.
 *
 * @param value The string or bytes to convert.
 * @returns The bytes; a `Uint8Array` argument is returned as is.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(toCdbBytes("alice"), new Uint8Array([97, 108, 105, 99, 101]));
 * ```
 */
export function toCdbBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/**
 * Computes the cdb hash of a key: start at 5381, then `h = (h * 33) ^ byte`
 * for every byte, in 32 bits unsigned.
 *
 * @param key The key, as bytes or a string (UTF-8 encoded).
 * @returns The hash as an unsigned 32-bit integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(cdbHash(""), 5381);
 * assert.equal(cdbHash("a"), 177604);
 * ```
 */
export function cdbHash(key: Uint8Array | string): number {
  const bytes = toCdbBytes(key);
  let h = 5381;
  for (let i = 0; i < bytes.length; i++) {
    h = (Math.imul(h, 33) ^ bytes[i]) >>> 0;
  }
  return h;
}

function corrupt(what: string): Error {
  return new Error(`corrupt cdb: ${what}`);
}

function equalBytes(
  buf: Uint8Array,
  offset: number,
  key: Uint8Array,
): boolean {
  for (let i = 0; i < key.length; i++) {
    if (buf[offset + i] !== key[i]) return false;
  }
  return true;
}

/**
 * A read-only constant database held in memory, with lookups through its
 * hash tables.
 *
 * Returned keys and values are copies, so callers may modify them freely.
 * Every structural problem found in the bytes (truncation, positions
 * pointing outside the file) is reported by throwing an `Error` whose
 * message begins with `"corrupt cdb: "`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeCdb } from "./writer.ts";
 * const path = await Deno.makeTempFile({ suffix: ".cdb" });
 * await Deno.writeFile(path, makeCdb([["alice", "x"]]));
 * const db = await Cdb.open(path);
 * await Deno.remove(path);
 * assert.deepEqual(db.get("alice"), new TextEncoder().encode("x"));
 * assert.equal(db.get("mallory"), undefined);
 * for (const [key, value] of db) assert.equal(key.length + value.length, 6);
 * ```
 */
export class Cdb {
  /** The path the database was read from, or null for {@link Cdb.fromBytes}. */
  readonly path: string | null;
  /**
   * Identity (device, inode, size, mtime, ctime) of the file when it was
   * read, or null for {@link Cdb.fromBytes}. Compare it against a fresh
   * `stat` (or call {@link Cdb.isStale}) to know when to re-read.
   */
  readonly identity: FileIdentity | null;

  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  /** End of the record area: the lowest hash table position. */
  readonly #dataEnd: number;

  private constructor(
    bytes: Uint8Array,
    path: string | null,
    identity: FileIdentity | null,
  ) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.path = path;
    this.identity = identity;
    this.#dataEnd = this.#checkHeader();
  }

  /**
   * Makes a database from the bytes of a cdb file, after checking that its
   * header and hash tables fit inside those bytes.
   *
   * @param bytes The whole cdb file; it is used without copying, so do not
   *   modify it afterwards.
   * @returns The database.
   * @throws {Error} "corrupt cdb: ..." if the header or a hash table lies
   *   outside the bytes.
   * @example
   * ```ts
   * import { makeCdb } from "./writer.ts";
   * import assert from "node:assert/strict";
   * const db = Cdb.fromBytes(makeCdb([["k", "v"]]));
   * assert.deepEqual(db.get("k"), new TextEncoder().encode("v"));
   * ```
   */
  static fromBytes(bytes: Uint8Array): Cdb {
    return new Cdb(bytes, null, null);
  }

  /**
   * Reads a whole cdb file into memory once and records its identity
   * (taken from the open file before reading, so a change during the read
   * is noticed by {@link Cdb.isStale}).
   *
   * @param path The file to read.
   * @returns The database, with `path` and `identity` set.
   * @throws {Deno.errors.NotFound} and other file system errors.
   * @throws {Error} "corrupt cdb: ..." if the file is not a well-formed cdb.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "./writer.ts";
   * const path = await Deno.makeTempFile({ suffix: ".cdb" });
   * await Deno.writeFile(path, makeCdb([["alice", "x"]]));
   * const db = await Cdb.open(path);
   * await Deno.remove(path);
   * assert.equal(db.path, path);
   * assert.equal(db.has("alice"), true);
   * ```
   */
  static async open(path: string): Promise<Cdb> {
    using file = await Deno.open(path, { read: true });
    const info = await file.stat();
    const bytes = await readAll(file, info.size);
    return new Cdb(bytes, path, fileIdentity(info));
  }

  /**
   * Tells whether the file this database was read from has since changed,
   * been replaced or removed.
   *
   * @returns True when `stat(path)` fails or gives a different identity;
   *   always false for a database made by {@link Cdb.fromBytes}.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "./writer.ts";
   * const path = await Deno.makeTempFile({ suffix: ".cdb" });
   * await Deno.writeFile(path, makeCdb([["alice", "x"]]));
   * let db = await Cdb.open(path);
   * assert.equal(await db.isStale(), false);
   * await Deno.writeFile(path, makeCdb([["alice", "y"], ["bob", "z"]]));
   * if (await db.isStale()) db = await Cdb.open(path);
   * await Deno.remove(path);
   * assert.equal(db.has("bob"), true);
   * ```
   */
  async isStale(): Promise<boolean> {
    if (this.path === null || this.identity === null) return false;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.path);
    } catch {
      return true;
    }
    return !sameFileIdentity(this.identity, fileIdentity(info));
  }

  /**
   * Gives the size in bytes of the database file.
   *
   * @returns The number of bytes.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "./writer.ts";
   * assert.equal(Cdb.fromBytes(makeCdb([])).byteLength, 2048);
   * ```
   */
  get byteLength(): number {
    return this.#bytes.length;
  }

  /**
   * Finds the first record stored under a key.
   *
   * @param key The key, as bytes or a string (UTF-8 encoded).
   * @returns A copy of the first record's data, or undefined if none.
   * @throws {Error} "corrupt cdb: ..." if the lookup meets a bad position.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "./writer.ts";
   * const db = Cdb.fromBytes(makeCdb([["a", "1"], ["a", "2"]]));
   * assert.equal(new TextDecoder().decode(db.get("a")), "1");
   * ```
   */
  get(key: Uint8Array | string): Uint8Array | undefined {
    for (const [start, end] of this.#find(toCdbBytes(key))) {
      return this.#bytes.slice(start, end);
    }
    return undefined;
  }

  /**
   * Finds every record stored under a key, in the order they were added.
   *
   * @param key The key, as bytes or a string (UTF-8 encoded).
   * @returns Copies of the records' data; empty if the key is absent.
   * @throws {Error} "corrupt cdb: ..." if the lookup meets a bad position.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "./writer.ts";
   * const db = Cdb.fromBytes(makeCdb([["a", "1"], ["b", "x"], ["a", "2"]]));
   * assert.equal(db.getAll("a").length, 2);
   * ```
   */
  getAll(key: Uint8Array | string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [start, end] of this.#find(toCdbBytes(key))) {
      out.push(this.#bytes.slice(start, end));
    }
    return out;
  }

  /**
   * Tells whether at least one record is stored under a key.
   *
   * @param key The key, as bytes or a string (UTF-8 encoded).
   * @returns True if a record with that key exists.
   * @throws {Error} "corrupt cdb: ..." if the lookup meets a bad position.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "./writer.ts";
   * assert.equal(Cdb.fromBytes(makeCdb([["a", ""]])).has("a"), true);
   * ```
   */
  has(key: Uint8Array | string): boolean {
    for (const _ of this.#find(toCdbBytes(key))) return true;
    return false;
  }

  /**
   * Iterates over every record in file order (the order they were added),
   * duplicates included, by walking the record area.
   *
   * @returns An iterator of `[key, data]` pairs (copies).
   * @throws {Error} "corrupt cdb: ..." if a record overruns the record area.
   * @example
   * ```ts
   * import { makeCdb } from "./writer.ts";
   * import assert from "node:assert/strict";
   * const text = new TextDecoder();
   * const seen: string[] = [];
   * for (const [key, data] of Cdb.fromBytes(makeCdb([["k", "v"]])).entries()) {
   *   seen.push(`${text.decode(key)}=${text.decode(data)}`);
   * }
   * assert.deepEqual(seen, ["k=v"]);
   * ```
   */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    let pos = CDB_HEADER_SIZE;
    while (pos < this.#dataEnd) {
      const [keyStart, dataStart, end] = this.#record(pos);
      yield [
        this.#bytes.slice(keyStart, dataStart),
        this.#bytes.slice(dataStart, end),
      ];
      pos = end;
    }
  }

  /**
   * Iterates over every record in file order; the same as {@link entries}.
   *
   * @returns An iterator of `[key, data]` pairs (copies).
   * @example
   * ```ts
   * import { makeCdb } from "./writer.ts";
   * import assert from "node:assert/strict";
   * const all = [...Cdb.fromBytes(makeCdb([["k", "v"]]))];
   * assert.equal(all.length, 1);
   * ```
   */
  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  #u32(offset: number, what: string): number {
    if (offset < 0 || offset + 4 > this.#bytes.length) {
      throw corrupt(
        `${what} at offset ${offset} lies beyond the end of the file (${this.#bytes.length} bytes)`,
      );
    }
    return this.#view.getUint32(offset, true);
  }

  /** Checks the header; returns the end of the record area. */
  #checkHeader(): number {
    const length = this.#bytes.length;
    if (length < CDB_HEADER_SIZE) {
      throw corrupt(
        `file is ${length} bytes, shorter than the ${CDB_HEADER_SIZE}-byte header`,
      );
    }
    let dataEnd = Infinity;
    for (let t = 0; t < 256; t++) {
      const pos = this.#view.getUint32(t * 8, true);
      const slots = this.#view.getUint32(t * 8 + 4, true);
      if (pos < CDB_HEADER_SIZE) {
        throw corrupt(`hash table ${t} starts at ${pos}, inside the header`);
      }
      if (pos + slots * 8 > length) {
        throw corrupt(
          `hash table ${t} (${slots} slots at ${pos}) extends beyond the end of the file (${length} bytes)`,
        );
      }
      if (pos < dataEnd) dataEnd = pos;
    }
    return dataEnd;
  }

  /**
   * Reads the record header at `pos`; returns [key start, data start, end],
   * checking the record lies within the record area.
   */
  #record(pos: number): [number, number, number] {
    if (pos < CDB_HEADER_SIZE || pos + 8 > this.#dataEnd) {
      throw corrupt(
        `record at ${pos} lies outside the record area (${CDB_HEADER_SIZE}..${this.#dataEnd})`,
      );
    }
    const klen = this.#u32(pos, "record key length");
    const dlen = this.#u32(pos + 4, "record data length");
    const keyStart = pos + 8;
    const dataStart = keyStart + klen;
    const end = dataStart + dlen;
    if (end > this.#dataEnd) {
      throw corrupt(
        `record at ${pos} (key ${klen} bytes, data ${dlen} bytes) overruns the record area ending at ${this.#dataEnd}`,
      );
    }
    return [keyStart, dataStart, end];
  }

  /** Yields [data start, data end] of every record whose key is `key`. */
  *#find(key: Uint8Array): Generator<[number, number]> {
    const h = cdbHash(key);
    const table = (h % 256) * 8;
    const tpos = this.#u32(table, "hash table position");
    const slots = this.#u32(table + 4, "hash table size");
    if (slots === 0) return;
    let slot = (h >>> 8) % slots;
    for (let probes = 0; probes < slots; probes++) {
      const spos = tpos + slot * 8;
      const shash = this.#u32(spos, "hash slot");
      const rpos = this.#u32(spos + 4, "hash slot");
      if (rpos === 0) return;
      if (shash === h) {
        const [keyStart, dataStart, end] = this.#record(rpos);
        if (
          dataStart - keyStart === key.length &&
          equalBytes(this.#bytes, keyStart, key)
        ) {
          yield [dataStart, end];
        }
      }
      if (++slot === slots) slot = 0;
    }
  }
}

/** Reads an open file to its end, expecting about `sizeHint` bytes. */
async function readAll(
  file: Deno.FsFile,
  sizeHint: number,
): Promise<Uint8Array> {
  let buf = new Uint8Array(Math.max(sizeHint, 0) + 1);
  let length = 0;
  while (true) {
    if (length === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await file.read(buf.subarray(length));
    if (n === null) break;
    length += n;
  }
  return buf.subarray(0, length);
}
