/**
 * The encodings of a stored hash and the `.b64`/`.hex` suffixes of a
 * scheme name, as Dovecot reads them: base64 with its padding, hex in
 * either case, and the guess between the two for a digest whose raw
 * length is known.
 *
 * @module
 */

/** How a scheme's raw bytes are written after its `{NAME}`. */
export type Encoding = "none" | "base64" | "hex";

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/**
 * Reads an encoding suffix (without its dot): `b64`, `base64` or `hex`, in
 * any case.
 *
 * @param suffix The suffix.
 * @returns The encoding, or undefined for anything else.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEncodingSuffix } from "./encoding.ts";
 * assert.equal(parseEncodingSuffix("HEX"), "hex");
 * assert.equal(parseEncodingSuffix("b64"), "base64");
 * ```
 */
export function parseEncodingSuffix(suffix: string): Encoding | undefined {
  switch (suffix.toLowerCase()) {
    case "b64":
    case "base64":
      return "base64";
    case "hex":
      return "hex";
  }
  return undefined;
}

/**
 * Bytes as lower-case hex.
 *
 * @param bytes The bytes.
 * @returns The hex text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toHex } from "./encoding.ts";
 * assert.equal(toHex(new Uint8Array([1, 171])), "01ab");
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Bytes as base64 with padding.
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBase64 } from "./encoding.ts";
 * assert.equal(toBase64(new Uint8Array([97])), "YQ==");
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Reads hex text (either case).
 *
 * @param text The text.
 * @returns The bytes, or undefined when it is not hex.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromHex } from "./encoding.ts";
 * assert.deepEqual(fromHex("01AB"), new Uint8Array([1, 171]));
 * assert.equal(fromHex("0g"), undefined);
 * ```
 */
export function fromHex(text: string): Uint8Array | undefined {
  return HEX.test(text) ? Uint8Array.fromHex(text) : undefined;
}

/**
 * Reads base64 text: the standard alphabet, padded, no white space.
 *
 * @param text The text.
 * @returns The bytes, or undefined when it is not such base64.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromBase64 } from "./encoding.ts";
 * assert.deepEqual(fromBase64("YQ=="), new Uint8Array([97]));
 * assert.equal(fromBase64("YQ"), undefined);
 * ```
 */
export function fromBase64(text: string): Uint8Array | undefined {
  return BASE64.test(text) ? Uint8Array.fromBase64(text) : undefined;
}

/**
 * Decodes a stored value's text as Dovecot does. With no suffix given and
 * a raw length known, the encoding is guessed: hex when the text is twice
 * the raw length (base64 when it is not valid hex after all), else base64.
 * A raw length that is known must then match.
 *
 * @param text The text after `{NAME}`.
 * @param encoding The scheme's default encoding, or the suffix's.
 * @param rawLength The scheme's raw length; 0 when it varies.
 * @param explicit Whether the encoding came from a suffix (no guessing).
 * @returns The raw bytes, or undefined when the text cannot be decoded.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeStored } from "./encoding.ts";
 * assert.deepEqual(decodeStored("00ff", "base64", 2, false), new Uint8Array([0, 255])); // guessed hex
 * decodeStored("AP8=", "base64", 2, false); // Uint8Array [0, 255]
 * ```
 */
export function decodeStored(
  text: string,
  encoding: Encoding,
  rawLength: number,
  explicit: boolean,
): Uint8Array | undefined {
  let raw: Uint8Array | undefined;
  if (encoding === "none") {
    raw = new TextEncoder().encode(text);
  } else if (!explicit && rawLength !== 0) {
    raw = text.length === rawLength * 2 ? fromHex(text) : undefined;
    raw ??= fromBase64(text);
  } else {
    raw = encoding === "hex" ? fromHex(text) : fromBase64(text);
  }
  if (raw === undefined) return undefined;
  return rawLength !== 0 && raw.length !== rawLength ? undefined : raw;
}

/**
 * Encodes raw bytes for storing.
 *
 * @param raw The bytes a scheme made.
 * @param encoding How to write them.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeStored } from "./encoding.ts";
 * assert.equal(encodeStored(new Uint8Array([0, 255]), "hex"), "00ff");
 * ```
 */
export function encodeStored(raw: Uint8Array, encoding: Encoding): string {
  switch (encoding) {
    case "none":
      return new TextDecoder().decode(raw);
    case "hex":
      return toHex(raw);
    case "base64":
      return toBase64(raw);
  }
}
