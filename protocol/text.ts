/**
 * Bytes ⇄ text helpers for protocol values. Values are bytes on the wire;
 * account names and facts are UTF-8 text everywhere else.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes text as UTF-8 bytes.
 *
 * @param text The text.
 * @returns Its UTF-8 bytes.
 * @example
 * ```ts
 * import { toBytes } from "./text.ts";
 * toBytes("ab"); // Uint8Array [97, 98]
 * ```
 */
export function toBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 bytes as text (invalid sequences become U+FFFD).
 *
 * @param bytes The bytes.
 * @returns The text.
 * @example
 * ```ts
 * import { toText } from "./text.ts";
 * toText(new Uint8Array([97, 98])); // "ab"
 * ```
 */
export function toText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Whether two byte strings are equal, in time that depends only on their lengths.
 *
 * @param a One byte string.
 * @param b The other.
 * @returns True when equal.
 * @example
 * ```ts
 * import { bytesEqual } from "./text.ts";
 * bytesEqual(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Concatenates byte strings.
 *
 * @param parts The pieces.
 * @returns One array holding them in order.
 * @example
 * ```ts
 * import { concat } from "./text.ts";
 * concat([new Uint8Array([1]), new Uint8Array([2])]); // Uint8Array [1, 2]
 * ```
 */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Lower-cases the ASCII letters A–Z and nothing else, as C's `tolower` and
 * `strcasecmp` do in the "C" locale. Every name a module or client folds
 * goes through this, never `toLowerCase()`: Unicode folding turns U+212A
 * KELVIN SIGN into `k` and U+0130 into `i̇`, so another spelling of a
 * name would reach the same account.
 *
 * @param text The text.
 * @returns The text with A–Z turned into a–z.
 * @example
 * ```ts
 * import { asciiLower } from "./text.ts";
 * asciiLower("Bob-ÄX\u212A"); // "bob-Äx\u212A"
 * ```
 */
export function asciiLower(text: string): string {
  return text.replace(
    /[A-Z]/g,
    (c) => String.fromCharCode(c.charCodeAt(0) + 32),
  );
}
