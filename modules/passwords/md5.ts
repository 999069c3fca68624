/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) in plain TypeScript, with access
 * to the internal state: a `{CRAM-MD5}` value is the state of HMAC-MD5's
 * two hashes after their first block, which no digest API exposes.
 * WebCrypto has no MD5, and this keeps `node:crypto` off the start-up path.
 *
 * @module
 */

/** MD5's four state words, as after the standard initial values. */
export type Md5State = Uint32Array;

/** The initial state (RFC 1321, 3.3). */
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] as const;

/** Per-round shift amounts. */
const SHIFTS = [
  7,
  12,
  17,
  22,
  5,
  9,
  14,
  20,
  4,
  11,
  16,
  23,
  6,
  10,
  15,
  21,
] as const;

/** The sine table: floor(abs(sin(i + 1)) * 2^32). */
const SINES = Uint32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0,
);

/**
 * The initial MD5 state.
 *
 * @returns A fresh state.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5Initial } from "./md5.ts";
 * assert.equal(md5Initial()[0].toString(16), "67452301");
 * ```
 */
export function md5Initial(): Md5State {
  return Uint32Array.from(IV);
}

/**
 * Runs MD5's compression function over one 64-byte block, in place.
 *
 * @param state The state to update.
 * @param block The bytes; 64 of them are read from `offset`.
 * @param offset Where the block starts.
 * @example
 * ```ts
 * import { md5Compress, md5Initial } from "./md5.ts";
 * const state = md5Initial();
 * md5Compress(state, new Uint8Array(64));
 * ```
 */
export function md5Compress(
  state: Md5State,
  block: Uint8Array,
  offset = 0,
): void {
  const m = new Uint32Array(16);
  for (let i = 0; i < 16; i++) {
    const at = offset + i * 4;
    m[i] = block[at] | block[at + 1] << 8 | block[at + 2] << 16 |
      block[at + 3] << 24;
  }
  let [a, b, c, d] = state;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    const sum = (a + f + SINES[i] + m[g]) >>> 0;
    const shift = SHIFTS[(i >> 4) * 4 + (i % 4)];
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << shift) | (sum >>> (32 - shift)))) >>> 0;
  }
  state[0] = (state[0] + a) >>> 0;
  state[1] = (state[1] + b) >>> 0;
  state[2] = (state[2] + c) >>> 0;
  state[3] = (state[3] + d) >>> 0;
}

/**
 * Finishes an MD5 hash from a state that has already taken `before` bytes
 * (a multiple of 64): hashes `data`, pads, and returns the digest.
 *
 * @param state The state after the first `before` bytes (not modified).
 * @param before How many bytes the state has taken.
 * @param data The rest of the message.
 * @returns The 16-byte digest.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5Finish, md5Initial } from "./md5.ts";
 * assert.equal(md5Finish(md5Initial(), 0, new Uint8Array()).length, 16);
 * ```
 */
export function md5Finish(
  state: Md5State,
  before: number,
  data: Uint8Array,
): Uint8Array {
  const s = Uint32Array.from(state);
  const whole = data.length - (data.length % 64);
  for (let at = 0; at < whole; at += 64) md5Compress(s, data, at);
  const restLength = data.length - whole;
  const tail = new Uint8Array(restLength < 56 ? 64 : 128);
  tail.set(data.subarray(whole));
  tail[restLength] = 0x80;
  const bits = (before + data.length) * 8;
  const view = new DataView(tail.buffer);
  view.setUint32(tail.length - 8, bits >>> 0, true);
  view.setUint32(tail.length - 4, Math.floor(bits / 2 ** 32), true);
  for (let at = 0; at < tail.length; at += 64) md5Compress(s, tail, at);
  return md5StateBytes(s);
}

/**
 * The state as 16 bytes, each word little-endian (MD5's digest layout).
 *
 * @param state The state.
 * @returns The bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5Initial, md5StateBytes } from "./md5.ts";
 * assert.equal(md5StateBytes(md5Initial())[0], 0x01);
 * ```
 */
export function md5StateBytes(state: Md5State): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, state[i], true);
  return out;
}

/**
 * Reads a state from 16 bytes, as {@linkcode md5StateBytes} writes it.
 *
 * @param bytes The bytes (16 are read from `offset`).
 * @param offset Where they start.
 * @returns The state.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5Initial, md5StateBytes, md5StateFrom } from "./md5.ts";
 * assert.equal(md5StateFrom(md5StateBytes(md5Initial()))[3].toString(16), "10325476");
 * ```
 */
export function md5StateFrom(bytes: Uint8Array, offset = 0): Md5State {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 16);
  return Uint32Array.from({ length: 4 }, (_, i) => view.getUint32(i * 4, true));
}

/**
 * The MD5 digest of the parts, one after another.
 *
 * @param parts The message, in pieces.
 * @returns The 16-byte digest.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5 } from "./md5.ts";
 * import { toHex } from "./encoding.ts";
 * assert.equal(toHex(md5(new TextEncoder().encode("abc"))), "900150983cd24fb0d6963f7d28e17f72");
 * ```
 */
export function md5(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return md5Finish(md5Initial(), 0, parts[0]);
  const length = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return md5Finish(md5Initial(), 0, all);
}

/**
 * The HMAC-MD5 states after the first block of each hash: `inner` has
 * taken the key XOR ipad, `outer` the key XOR opad. A key over 64 bytes is
 * hashed first, as HMAC says.
 *
 * @param key The HMAC key (for CRAM-MD5, the password).
 * @returns Both states.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hmacMd5States } from "./md5.ts";
 * assert.equal(hmacMd5States(new TextEncoder().encode("pw")).inner.length, 4);
 * ```
 */
export function hmacMd5States(
  key: Uint8Array,
): { inner: Md5State; outer: Md5State } {
  const k = new Uint8Array(64);
  k.set(key.length > 64 ? md5(key) : key);
  const pad = new Uint8Array(64);
  const inner = md5Initial();
  const outer = md5Initial();
  for (let i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  md5Compress(inner, pad);
  for (let i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  md5Compress(outer, pad);
  k.fill(0);
  pad.fill(0);
  return { inner, outer };
}

/**
 * HMAC-MD5 finished from the two states of {@linkcode hmacMd5States}.
 *
 * @param states The inner and outer states.
 * @param message The message (a CRAM-MD5 challenge).
 * @returns The 16-byte MAC.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hmacMd5FromStates, hmacMd5States } from "./md5.ts";
 * const states = hmacMd5States(new TextEncoder().encode("pw"));
 * assert.equal(hmacMd5FromStates(states, new TextEncoder().encode("<1.2@host>")).length, 16);
 * ```
 */
export function hmacMd5FromStates(
  states: { inner: Md5State; outer: Md5State },
  message: Uint8Array,
): Uint8Array {
  const inner = md5Finish(states.inner, 64, message);
  return md5Finish(states.outer, 64, inner);
}

/**
 * HMAC-MD5 (RFC 2104).
 *
 * @param key The key.
 * @param message The message.
 * @returns The 16-byte MAC.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hmacMd5 } from "./md5.ts";
 * import { toHex } from "./encoding.ts";
 * const text = new TextEncoder();
 * assert.equal(toHex(hmacMd5(text.encode("Jefe"), text.encode("what do ya want for nothing?"))), "750c783e6ab0b503eaa86e310a5db738");
 * ```
 */
export function hmacMd5(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmacMd5FromStates(hmacMd5States(key), message);
}
