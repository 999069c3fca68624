/**
 * Password comparison: plain text (constant time), crypt(3) through the
 * system's libcrypt, and the challenge-response credentials (APOP,
 * CRAM-MD5) that only a plain-text password can answer.
 *
 * @module
 */

import {
  asciiLower,
  bytesEqual,
  CvmError,
  ErrorCode,
  toBytes,
} from "../../protocol/mod.ts";
import type { ModuleRequest } from "../runtime/mod.ts";
import type { CryptDecoy } from "./crypt_decoy.ts";

/** How stored passwords are kept: as plain text or as crypt(3) hashes. */
export type PasswordScheme = "plain" | "crypt";

/**
 * Reads a `..._PWCMP` variable: unset, empty or "plain" is plain text,
 * "crypt" is crypt(3); anything else is a configuration error naming it.
 *
 * @param variable The variable's name, for the error.
 * @param value Its value.
 * @returns The scheme.
 * @throws {CvmError} CONFIG for an unknown value.
 * @example
 * ```ts
 * import { parsePasswordScheme } from "./check.ts";
 * parsePasswordScheme("CVM_PWFILE_PWCMP", "crypt"); // "crypt"
 * ```
 */
export function parsePasswordScheme(
  variable: string,
  value: string | undefined,
): PasswordScheme {
  if (value === undefined || value === "" || value === "plain") return "plain";
  if (value === "crypt") return "crypt";
  throw new CvmError(
    ErrorCode.CONFIG,
    `$${variable} must be "plain" or "crypt"`,
  );
}

/**
 * A response as lower-case hex text. Clients send the digest as hex text;
 * the reference's SASL library sends a CRAM-MD5 digest as its 16 raw bytes
 * (a hex digest is 32 characters, so 16 bytes cannot be hex text).
 */
function responseHex(type: string, response: Uint8Array): string {
  if (response.length === 16 && asciiLower(type) === "cram-md5") {
    return Array.from(response, (b) => b.toString(16).padStart(2, "0")).join(
      "",
    );
  }
  return asciiLower(new TextDecoder().decode(response));
}

/**
 * The expected response to a challenge for a plain-text password, or
 * undefined for a mechanism we do not know. node:crypto is loaded here, on
 * first use: loading it costs every program start about 20 ms.
 */
async function expectedResponse(
  type: string,
  challenge: Uint8Array,
  password: Uint8Array,
): Promise<string | undefined> {
  switch (asciiLower(type)) {
    case "apop": {
      const { createHash } = await import("node:crypto");
      return createHash("md5").update(challenge).update(password).digest("hex");
    }
    case "cram-md5": {
      const { createHmac } = await import("node:crypto");
      return createHmac("md5", password).update(challenge).digest("hex");
    }
  }
  return undefined;
}

/**
 * Checks a request's credentials against a stored password. A password
 * credential is compared by the scheme; challenge, response and response
 * type (APOP, CRAM-MD5) are checked only against plain-text storage. An
 * empty stored password never matches (and a crypt hash such as `*` or
 * `!…` cannot); an empty password credential is none (the request view
 * drops it), so the answer is NOCRED.
 *
 * @param scheme How the stored password is kept.
 * @param request The request (its password or challenge-response credentials).
 * @param stored The stored password or hash.
 * @param decoy For crypt: checks a locked or empty stored hash against a
 *   dummy hash, so that it takes as long as a real one.
 * @returns True when the credentials match.
 * @throws {CvmError} NOCRED when the request has no credential this can check.
 * @example
 * ```ts
 * import { checkPassword } from "./check.ts";
 * // await checkPassword("plain", request, "secret");
 * ```
 */
export async function checkPassword(
  scheme: PasswordScheme,
  request: Pick<
    ModuleRequest,
    "password" | "challenge" | "response" | "responseType"
  >,
  stored: string,
  decoy?: CryptDecoy,
): Promise<boolean> {
  // The credentials are looked at first, as the reference does: with none
  // to check the answer is NOCRED, whatever is stored. An empty stored
  // password then never matches, in any scheme (its HMAC key would be
  // public, and "" would equal a password that should never be empty).
  if (request.password !== undefined) {
    if (scheme === "plain") {
      return stored !== "" && bytesEqual(request.password, toBytes(stored));
    }
    if (stored === "") {
      // Never a match, but as costly as one: the timing must not tell.
      await decoy?.reject(request.password);
      return false;
    }
    if (decoy) return await decoy.verify(request.password, stored);
    const { verifyCrypt } = await import("../../sys/mod.ts");
    return await verifyCrypt(request.password, stored);
  }
  const { challenge, response, responseType } = request;
  if (
    scheme === "plain" && challenge && response && responseType !== undefined
  ) {
    const expected = await expectedResponse(
      responseType,
      challenge,
      toBytes(stored),
    );
    if (expected === undefined) {
      throw new CvmError(ErrorCode.NOCRED, "unknown response type");
    }
    if (stored === "") return false;
    return bytesEqual(
      toBytes(responseHex(responseType, response)),
      toBytes(expected),
    );
  }
  throw new CvmError(ErrorCode.NOCRED, "no password credential");
}
