/**
 * The result codes of the SASL functions (the reference's numbering) and
 * the reply a server sends for each failure.
 *
 * @module
 */

/**
 * The result codes of the SASL functions (the reference's numbering).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SaslCode } from "./codes.ts";
 * assert.equal(SaslCode.NO_MECH, 2);
 * ```
 */
export const SaslCode = {
  /** Authentication is complete. */
  AUTH_OK: 0,
  /** Authentication failed (permanently). */
  AUTH_FAILED: 1,
  /** Invalid or unknown mechanism name. */
  NO_MECH: 2,
  /** Temporary or internal failure. */
  TEMP_FAIL: 3,
  /** Send the challenge to the client, wait for a response. */
  CHALLENGE: 4,
  /** A response was required but not given. */
  RESP_REQUIRED: 5,
  /** An (initial) response was given but not allowed. */
  RESP_NOTALLOWED: 6,
  /** The response was invalid. */
  RESP_BAD: 7,
  /** End of file while waiting for a response. */
  RESP_EOF: 8,
} as const;

/**
 * The reply a server sends for a failed exchange: an SMTP-style number and
 * the reference's text.
 *
 * @param code A {@link SaslCode}.
 * @returns The reply number and message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslAuthMessage } from "./codes.ts";
 * assert.deepEqual(saslAuthMessage(1), { code: 501, message: "Authentication failed." });
 * ```
 */
export function saslAuthMessage(code: number): {
  code: number;
  message: string;
} {
  switch (code) {
    case SaslCode.AUTH_FAILED:
      return { code: 501, message: "Authentication failed." };
    case SaslCode.NO_MECH:
      return { code: 504, message: "Unrecognized authentication mechanism." };
    case SaslCode.RESP_REQUIRED:
      return { code: 535, message: "Response was required but not given." };
    case SaslCode.RESP_NOTALLOWED:
      return { code: 535, message: "Initial response not allowed." };
    case SaslCode.RESP_BAD:
      return { code: 501, message: "Could not decode the response." };
    case SaslCode.RESP_EOF:
      return { code: 535, message: "End of file reached." };
    default:
      return { code: 451, message: "Internal error." };
  }
}
