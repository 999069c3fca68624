/**
 * cvm-pwfile's account index, kept small: the file's bytes and, per
 * account, where its line starts. A line is parsed only when its account
 * is asked for, and the parsed entries of the recently asked accounts are
 * kept (with their facts encoded once). 100,000 accounts cost about the
 * file's size and a map of names, not 100,000 parsed objects.
 *
 * Names are matched as bytes, ASCII letters in either case (the reference
 * folds A–Z only): a key is the name's bytes, A–Z folded, as a latin1
 * string (one character per byte).
 *
 * @module
 */

import { toExactText } from "../protocol/mod.ts";

/** Bytes of ASCII characters the index looks for. */
const NEWLINE = 0x0a;
const COLON = 0x3a;

/** How many parsed entries are kept for the accounts asked for last. */
export const PARSED_KEPT = 4096;

/**
 * The index key of a name: its bytes with A–Z folded to a–z, one latin1
 * character per byte.
 *
 * @param name The name's bytes.
 * @returns The key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameKey } from "./_pwfile_index.ts";
 * assert.equal(nameKey(new TextEncoder().encode("Bob")), "bob");
 * assert.equal(nameKey(new TextEncoder().encode("é")), "\u00c3\u00a9");
 * ```
 */
export function nameKey(name: Uint8Array): string {
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    if (name[i] >= 0x41 && name[i] <= 0x5a) {
      upper = true;
      break;
    }
  }
  const bytes = upper ? name.slice() : name;
  if (upper) {
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] >= 0x41 && bytes[i] <= 0x5a) bytes[i] += 0x20;
    }
  }
  // Short names (the usual case) in one call; long ones in pieces.
  if (bytes.length <= 4096) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let key = "";
  for (let at = 0; at < bytes.length; at += 4096) {
    const part = bytes.subarray(at, at + 4096) as unknown as number[];
    key += String.fromCharCode.apply(null, part);
  }
  return key;
}

/** Whether bytes[from, to) is a decimal number of 1 to 10 digits. */
function isDecimal(bytes: Uint8Array, from: number, to: number): boolean {
  if (to <= from || to - from > 10) return false;
  for (let i = from; i < to; i++) {
    if (bytes[i] < 0x30 || bytes[i] > 0x39) return false;
  }
  return true;
}

/**
 * Says whether the line bytes[start, end) is a valid entry: where its name
 * ends (the first colon), or -1 to skip the line.
 */
export type LineCheck = (
  bytes: Uint8Array,
  start: number,
  end: number,
) => number;

/**
 * Where the name of the line at `start` ends, when the line is a valid
 * /etc/passwd entry (seven fields, a name, decimal user and group ids);
 * else -1.
 *
 * @param bytes The file's bytes.
 * @param start Where the line starts.
 * @param end Where its newline is (or the end of the file).
 * @returns The offset of the colon after the name, or -1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validNameEnd } from "./_pwfile_index.ts";
 * const line = new TextEncoder().encode("bob:pw:1:2::/h:");
 * assert.equal(validNameEnd(line, 0, line.length), 3);
 * const bad = new TextEncoder().encode("bob:pw:x:2::/h:");
 * assert.equal(validNameEnd(bad, 0, bad.length), -1);
 * ```
 */
export function validNameEnd(
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  // The colons that end the name, the password, the user id and the group id.
  let name = -1, password = -1, uid = -1, gid = -1;
  let colons = 0;
  for (let i = start; i < end; i++) {
    if (bytes[i] !== COLON) continue;
    colons++;
    if (colons === 1) name = i;
    else if (colons === 2) password = i;
    else if (colons === 3) uid = i;
    else if (colons === 4) gid = i;
    else if (colons > 6) return -1;
  }
  if (colons !== 6 || name === start) return -1;
  if (!isDecimal(bytes, password + 1, uid)) return -1;
  if (!isDecimal(bytes, uid + 1, gid)) return -1;
  return name;
}

/**
 * Calls `each(start, nameEnd, end)` for every valid line of a passwd file,
 * in file order (`end` is where its newline is, or the end of the file),
 * until it returns true.
 */
function eachLine(
  bytes: Uint8Array,
  check: LineCheck,
  each: (start: number, nameEnd: number, end: number) => boolean | void,
): void {
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.length;
    const nameEnd = check(bytes, start, end);
    if (nameEnd >= 0 && each(start, nameEnd, end)) return;
    start = end + 1;
  }
}

/** A byte with A–Z folded to a–z. */
function fold(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

/**
 * Finds the first valid line for a name by scanning (command mode, where
 * building an index would cost more than it saves).
 *
 * @param bytes The file's bytes.
 * @param name The name's bytes (ASCII letters match in either case).
 * @param check Which lines are entries (default: /etc/passwd's layout).
 * @returns The line's bytes (a view), or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findLine } from "./_pwfile_index.ts";
 * const file = new TextEncoder().encode("Bob:pw:1:2::/h:\n");
 * assert.equal(
 *   new TextDecoder().decode(findLine(file, new TextEncoder().encode("BOB"))),
 *   "Bob:pw:1:2::/h:",
 * );
 * ```
 */
export function findLine(
  bytes: Uint8Array,
  name: Uint8Array,
  check: LineCheck = validNameEnd,
): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  eachLine(bytes, check, (start, nameEnd, end) => {
    if (nameEnd - start !== name.length) return false;
    for (let i = 0; i < name.length; i++) {
      if (fold(bytes[start + i]) !== fold(name[i])) return false;
    }
    found = bytes.subarray(start, end);
    return true;
  });
  return found;
}

/**
 * A passwd file indexed by name: the first valid line of each name, the
 * line parsed by `parse` when asked for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PasswdIndex } from "./_pwfile_index.ts";
 * const file = new TextEncoder().encode("Bob:pw:1:2::/h:\nbob:x:3:4::/:\n");
 * const index = new PasswdIndex(file, (line) => line.split(":"));
 * assert.equal(index.find(new TextEncoder().encode("bob"))?.[1], "pw");
 * assert.equal(index.size, 1); // the first line of a name wins
 * ```
 */
export class PasswdIndex<T> {
  readonly #bytes: Uint8Array;
  readonly #starts = new Map<string, number>();
  readonly #parse: (line: string) => T;
  readonly #kept = new Map<string, T>();

  /**
   * Indexes a file's bytes (kept as they are: do not change them).
   *
   * @param bytes The file.
   * @param parse Turns a valid line (decoded byte for byte by
   *   `toExactText`, without its newline) into an entry.
   * @param check Which lines are entries (default: /etc/passwd's layout).
   */
  constructor(
    bytes: Uint8Array,
    parse: (line: string) => T,
    check: LineCheck = validNameEnd,
  ) {
    this.#bytes = bytes;
    this.#parse = parse;
    eachLine(bytes, check, (start, nameEnd) => {
      const key = nameKey(bytes.subarray(start, nameEnd));
      if (!this.#starts.has(key)) this.#starts.set(key, start);
    });
  }

  /** How many names the file holds. */
  get size(): number {
    return this.#starts.size;
  }

  /**
   * The entry of a name.
   *
   * @param name The name's bytes (ASCII letters match in either case).
   * @returns The parsed entry, or undefined.
   */
  find(name: Uint8Array): T | undefined {
    const key = nameKey(name);
    const kept = this.#kept.get(key);
    if (kept !== undefined) return kept;
    const start = this.#starts.get(key);
    if (start === undefined) return undefined;
    const entry = this.#parse(this.#line(start));
    if (this.#kept.size >= PARSED_KEPT) {
      this.#kept.delete(this.#kept.keys().next().value!);
    }
    this.#kept.set(key, entry);
    return entry;
  }

  /**
   * Every indexed entry's line, parsed, in file order (first line of each
   * name only); none is kept.
   *
   * @returns The entries.
   */
  *entries(): Generator<T> {
    for (const start of this.#starts.values()) {
      yield this.#parse(this.#line(start));
    }
  }

  #line(start: number): string {
    let end = this.#bytes.indexOf(NEWLINE, start);
    if (end < 0) end = this.#bytes.length;
    // Byte for byte: a byte-order mark or a Latin-1 byte stays in the name.
    return toExactText(this.#bytes.subarray(start, end));
  }
}
