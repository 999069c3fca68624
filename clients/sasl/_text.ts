/**
 * Bytes as the reference's C code sees them: cut at the first NUL, and
 * made safe for a log line.
 *
 * @module
 */

import { toBytes } from "../../protocol/mod.ts";

/**
 * The text up to the first NUL, as C would read it.
 *
 * @param bytes The bytes.
 * @returns A view of the bytes before the first NUL (all of them if none).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cString } from "./_text.ts";
 * assert.deepEqual(cString(new Uint8Array([98, 0, 99])), new Uint8Array([98]));
 * ```
 */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/**
 * Text for a log line as the reference writes it: up to the first NUL,
 * each byte from 32 to 127 as itself and any other as `?`, so a name
 * cannot forge a line.
 *
 * @param text The text or bytes.
 * @returns The log-safe text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logText } from "./_text.ts";
 * assert.equal(logText("bob\nSASL AUTH"), "bob?SASL AUTH");
 * ```
 */
export function logText(text: string | Uint8Array): string {
  const bytes = cString(typeof text === "string" ? toBytes(text) : text);
  return Array.from(
    bytes,
    (b) => b >= 32 && b <= 127 ? String.fromCharCode(b) : "?",
  ).join("");
}
