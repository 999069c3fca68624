/**
 * PLAIN, CLEAR and CLEARTEXT: the password itself is stored. The only
 * schemes that can answer APOP as well as CRAM-MD5.
 *
 * @module
 */

import { bytesEqual } from "../../protocol/mod.ts";
import { toHex } from "./encoding.ts";
import { hmacMd5, md5 } from "./md5.ts";
import type { ChallengeMechanism, SchemeCode } from "./scheme.ts";
import { verdict } from "./scheme.ts";

/**
 * The code of the plain-text schemes: a constant-time comparison.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plainScheme } from "./plain_schemes.ts";
 * const pw = new TextEncoder().encode("secret");
 * assert.equal(await plainScheme.verify(pw, pw), "match");
 * ```
 */
export const plainScheme: SchemeCode = {
  generate: (password) => Promise.resolve(password.slice()),
  verify: (password, raw) =>
    Promise.resolve(verdict(bytesEqual(password, raw))),
  expectedResponse(
    raw: Uint8Array,
    mechanism: ChallengeMechanism,
    challenge: Uint8Array,
  ): string {
    return toHex(
      mechanism === "apop" ? md5(challenge, raw) : hmacMd5(raw, challenge),
    );
  },
};
