/**
 * `CRAM-MD5` (and its Dovecot alias `HMAC-MD5`): the stored value is the
 * HMAC-MD5 context of the password, the MD5 states after the outer and
 * the inner pad blocks, each as four little-endian words (32 bytes, hex).
 * It answers a CRAM-MD5 challenge without the password itself, and checks
 * a plain password by making the context again.
 *
 * @module
 */

import { bytesEqual } from "../../protocol/mod.ts";
import { toHex } from "./encoding.ts";
import { hmacMd5FromStates, hmacMd5States, md5StateBytes } from "./md5.ts";
import { md5StateFrom } from "./md5.ts";
import type { SchemeCode } from "./scheme.ts";
import { verdict } from "./scheme.ts";

/** The length of a stored context. */
export const CRAM_MD5_CONTEXT_LENGTH = 32;

/**
 * The HMAC-MD5 context Dovecot stores for a password: outer state, then
 * inner state.
 *
 * @param password The password.
 * @returns The 32 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cramMd5Context } from "./cram_md5.ts";
 * assert.equal(cramMd5Context(new TextEncoder().encode("pw")).length, 32);
 * ```
 */
export function cramMd5Context(password: Uint8Array): Uint8Array {
  const { inner, outer } = hmacMd5States(password);
  const out = new Uint8Array(CRAM_MD5_CONTEXT_LENGTH);
  out.set(md5StateBytes(outer));
  out.set(md5StateBytes(inner), 16);
  return out;
}

/**
 * The CRAM-MD5 response to a challenge, from a stored context.
 *
 * @param context The 32-byte context.
 * @param challenge The challenge the server sent.
 * @returns HMAC-MD5(password, challenge) as lower-case hex.
 * @example
 * ```ts
 * import { cramMd5Context, cramMd5Response } from "./cram_md5.ts";
 * const text = new TextEncoder();
 * import assert from "node:assert/strict";
 * assert.equal(cramMd5Response(cramMd5Context(text.encode("tanstaaftanstaaf")),
 *   text.encode("<1896.697170952@postoffice.reston.mci.net>")),
 *   "b913a602c7eda7a495b4e6e7334d3890"); // RFC 2195's example
 * ```
 */
export function cramMd5Response(
  context: Uint8Array,
  challenge: Uint8Array,
): string {
  const outer = md5StateFrom(context, 0);
  const inner = md5StateFrom(context, 16);
  return toHex(hmacMd5FromStates({ inner, outer }, challenge));
}

/**
 * The code of `CRAM-MD5` and `HMAC-MD5`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cramMd5Scheme } from "./cram_md5.ts";
 * const pw = new TextEncoder().encode("pw");
 * assert.equal(await cramMd5Scheme.verify(pw, await cramMd5Scheme.generate(pw, {})), "match");
 * ```
 */
export const cramMd5Scheme: SchemeCode = {
  generate: (password) => Promise.resolve(cramMd5Context(password)),
  verify(password, raw) {
    if (raw.length !== CRAM_MD5_CONTEXT_LENGTH) {
      return Promise.resolve("unusable");
    }
    return Promise.resolve(verdict(bytesEqual(cramMd5Context(password), raw)));
  },
  expectedResponse(raw, mechanism, challenge) {
    if (mechanism !== "cram-md5" || raw.length !== CRAM_MD5_CONTEXT_LENGTH) {
      return undefined;
    }
    return cramMd5Response(raw, challenge);
  },
};
