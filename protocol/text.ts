/**
 * Bytes ⇄ text helpers for protocol values. Values are bytes on the wire;
 * account names and facts are UTF-8 text everywhere else, decoded with
 * {@link toExactText} where two different byte strings must stay different.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const exactDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The lone surrogates {@link toExactText} stands for bytes it cannot decode. */
const ESCAPED_BYTE = /[\uDC80-\uDCFF]/gu;

/**
 * Encodes text as UTF-8 bytes. A lone surrogate U+DC80–U+DCFF, which
 * {@link toExactText} made of a byte that was not UTF-8, becomes that byte
 * again, so `toBytes(toExactText(bytes))` is `bytes`. (Other lone
 * surrogates become U+FFFD, as with `TextEncoder`.)
 *
 * @param text The text.
 * @returns Its UTF-8 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBytes } from "./text.ts";
 * assert.deepEqual(toBytes("ab"), new Uint8Array([97, 98]));
 * assert.deepEqual(toBytes("jos\uDCE9"), new Uint8Array([106, 111, 115, 0xe9]));
 * ```
 */
export function toBytes(text: string): Uint8Array {
  if (text.isWellFormed()) return encoder.encode(text);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const escaped of text.matchAll(ESCAPED_BYTE)) {
    parts.push(encoder.encode(text.slice(from, escaped.index)));
    parts.push(Uint8Array.of(escaped[0].charCodeAt(0) - 0xdc00));
    from = escaped.index + 1;
  }
  parts.push(encoder.encode(text.slice(from)));
  return concat(parts);
}

/** The length of the valid UTF-8 sequence starting at `at`, 0 when none does. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at];
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // no overlong forms
    if (lead === 0xed) high = 0x9f; // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90; // no overlong forms
    if (lead === 0xf4) high = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (at + length > bytes.length) return 0;
  if (bytes[at + 1] < low || bytes[at + 1] > high) return 0;
  for (let i = 2; i < length; i++) {
    if (bytes[at + i] < 0x80 || bytes[at + i] > 0xbf) return 0;
  }
  return length;
}

/**
 * Decodes bytes as text without losing any, so that two different byte
 * strings never become the same text: valid UTF-8 as its characters (a
 * leading byte order mark kept), and each byte that is not part of a valid
 * sequence as the lone surrogate U+DC00 + byte (U+DC80–U+DCFF), which no
 * valid UTF-8 decodes to. {@link toBytes} gives the bytes back, and
 * `text.isWellFormed()` tells whether they were UTF-8. `toText`, by
 * contrast, turns every invalid byte into U+FFFD: `jos\xe9` and
 * `jos\xff` would both be `jos\uFFFD`, one account reachable by many names.
 *
 * @param bytes The bytes.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toExactText } from "./text.ts";
 * assert.equal(toExactText(new Uint8Array([0x6a, 0xc3, 0xa9])), "jé");
 * assert.equal(toExactText(new Uint8Array([0x6a, 0xe9])), "j\uDCE9");
 * ```
 */
export function toExactText(bytes: Uint8Array): string {
  const whole = exactDecoder.decode(bytes);
  // No U+FFFD: nothing was replaced. Else decode the valid runs and escape
  // the bytes between them (a U+FFFD that was sent stays one).
  if (!whole.includes("\uFFFD")) return whole;
  let text = "";
  let run = 0;
  for (let at = 0; at < bytes.length;) {
    const length = utf8SequenceLength(bytes, at);
    if (length > 0) {
      at += length;
      continue;
    }
    text += exactDecoder.decode(bytes.subarray(run, at));
    text += String.fromCharCode(0xdc00 + bytes[at]);
    run = ++at;
  }
  return text + exactDecoder.decode(bytes.subarray(run));
}

/**
 * Decodes UTF-8 bytes as text (invalid sequences become U+FFFD).
 *
 * @param bytes The bytes.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toText } from "./text.ts";
 * assert.equal(toText(new Uint8Array([97, 98])), "ab");
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
 * import assert from "node:assert/strict";
 * import { bytesEqual } from "./text.ts";
 * assert.equal(bytesEqual(new Uint8Array([1]), new Uint8Array([1])), true);
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
 * import assert from "node:assert/strict";
 * import { concat } from "./text.ts";
 * assert.deepEqual(concat([new Uint8Array([1]), new Uint8Array([2])]), new Uint8Array([1, 2]));
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
 * import assert from "node:assert/strict";
 * import { asciiLower } from "./text.ts";
 * assert.equal(asciiLower("Bob-ÄX\u212A"), "bob-Äx\u212A");
 * ```
 */
export function asciiLower(text: string): string {
  return text.replace(
    /[A-Z]/g,
    (c) => String.fromCharCode(c.charCodeAt(0) + 32),
  );
}
