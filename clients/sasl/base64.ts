/**
 * Base64 as the SASL exchanges use it: challenges encoded with padding,
 * response lines decoded as the reference's decoder reads them.
 *
 * @module
 */

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Encodes bytes as base64 with padding.
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./base64.ts";
 * assert.equal(encodeBase64(new TextEncoder().encode("Username:")), "VXNlcm5hbWU6");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) |
      (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : "=";
  }
  return out;
}

/**
 * Decodes a base64 line as the reference does: groups of four characters
 * from the standard alphabet; `=` in the third place ends the text after
 * one byte, in the fourth after two (whatever follows is ignored); any
 * other character, or a group cut short, makes the line invalid.
 *
 * @param text The line.
 * @returns The bytes, or undefined when the line is not valid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64Line } from "./base64.ts";
 * assert.deepEqual(decodeBase64Line("Ym9iYQ==ignored"), new TextEncoder().encode("boba"));
 * assert.equal(decodeBase64Line("Ym9"), undefined);
 * ```
 */
export function decodeBase64Line(text: string): Uint8Array | undefined {
  const out: number[] = [];
  const value = (c: string | undefined) =>
    c === undefined ? -1 : ALPHABET.indexOf(c);
  for (let i = 0; i < text.length; i += 4) {
    const a = value(text[i]);
    const b = value(text[i + 1]);
    if (a < 0 || b < 0) return undefined;
    out.push(((a << 2) | (b >> 4)) & 0xff);
    if (text[i + 2] === "=") return new Uint8Array(out);
    const c = value(text[i + 2]);
    if (c < 0) return undefined;
    out.push(((b << 4) | (c >> 2)) & 0xff);
    if (text[i + 3] === "=") return new Uint8Array(out);
    const d = value(text[i + 3]);
    if (d < 0) return undefined;
    out.push(((c << 6) | d) & 0xff);
  }
  return new Uint8Array(out);
}
