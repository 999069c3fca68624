/**
 * Password comparison as a module's `…_PWCMP` says: plain text (constant
 * time), crypt(3) through the system's libcrypt, or Dovecot's `{SCHEME}`
 * values through the registry; and the challenge-response credentials
 * (APOP, CRAM-MD5), which only what the stored value allows can answer.
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
import { CryptDecoy, firstHash } from "./crypt_decoy.ts";
import { toHex } from "./encoding.ts";
import { hmacMd5, md5 } from "./md5.ts";
import {
  checkStored,
  expectedResponse as storedResponse,
  findScheme,
  storedScheme,
} from "./registry.ts";
import type { ChallengeMechanism } from "./scheme.ts";
import { SchemeDecoy } from "./scheme_decoy.ts";

/**
 * How stored passwords are kept: as plain text, as crypt(3) hashes, or as
 * Dovecot's `{SCHEME}` values.
 */
export type PasswordScheme = "plain" | "crypt" | "scheme";

/** A module's password comparison: its mode and, for `scheme`, the default scheme. */
export interface PasswordComparison {
  /** The `…_PWCMP` mode. */
  readonly mode: PasswordScheme;
  /**
   * The scheme of a stored value without a `{NAME}` prefix
   * (`$CVM_DEFAULT_SCHEME`, default `CRYPT`); scheme mode only.
   */
  readonly defaultScheme: string;
}

/** Something that keeps the time of a failed check like a real one's. */
export interface PasswordDecoy {
  /** Notes a stored value the store holds. */
  observe(stored: string | undefined): void;
  /** Spends a real check's work, and rejects. */
  reject(phrase: Uint8Array | undefined): Promise<false>;
}

/**
 * Reads a `..._PWCMP` variable: unset, empty or "plain" is plain text,
 * "crypt" is crypt(3), "scheme" is Dovecot's `{SCHEME}` values; anything
 * else is a configuration error naming it.
 *
 * @param variable The variable's name, for the error.
 * @param value Its value.
 * @returns The scheme.
 * @throws {CvmError} CONFIG for an unknown value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePasswordScheme } from "./check.ts";
 * assert.equal(parsePasswordScheme("CVM_PWFILE_PWCMP", "crypt"), "crypt");
 * ```
 */
export function parsePasswordScheme(
  variable: string,
  value: string | undefined,
): PasswordScheme {
  if (value === undefined || value === "" || value === "plain") return "plain";
  if (value === "crypt" || value === "scheme") return value;
  throw new CvmError(
    ErrorCode.CONFIG,
    `$${variable} must be "plain", "crypt" or "scheme"`,
  );
}

/**
 * Reads a module's password comparison from the environment: the mode
 * from `variable`, and in scheme mode the default scheme from
 * `$CVM_DEFAULT_SCHEME` (default `CRYPT`; a suffix such as `SHA256.HEX`
 * is allowed).
 *
 * @param variable The `…_PWCMP` variable's name.
 * @param env The environment.
 * @returns The comparison.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPasswordComparison } from "./check.ts";
 * assert.deepEqual(readPasswordComparison("CVM_PWFILE_PWCMP", {
 *   CVM_PWFILE_PWCMP: "scheme", CVM_DEFAULT_SCHEME: "sha512-crypt",
 * }), { mode: "scheme", defaultScheme: "SHA512-CRYPT" });
 * ```
 */
export function readPasswordComparison(
  variable: string,
  env: Record<string, string | undefined>,
): PasswordComparison {
  const mode = parsePasswordScheme(variable, env[variable]);
  if (mode !== "scheme") return { mode, defaultScheme: "CRYPT" };
  const name = env.CVM_DEFAULT_SCHEME || "CRYPT";
  const scheme = findScheme(name);
  if (scheme === undefined) {
    throw new CvmError(
      ErrorCode.CONFIG,
      "$CVM_DEFAULT_SCHEME names no scheme cvm knows (cvm pw -l lists them)",
    );
  }
  return { mode, defaultScheme: scheme.label };
}

/**
 * The decoy that suits a comparison: none for plain text, a crypt(3)
 * decoy for crypt, a decoy in the store's most used scheme for scheme.
 *
 * @param comparison The module's comparison.
 * @param stored The stored passwords of the store, when it can list them
 *   (called once, when a decoy is first needed); without it, the first
 *   values the checks meet, and until then the default scheme.
 * @returns The decoy, or undefined in plain mode.
 * @example
 * ```ts
 * import { createPasswordDecoy } from "./check.ts";
 * const decoy = createPasswordDecoy({ mode: "crypt", defaultScheme: "CRYPT" });
 * ```
 */
export function createPasswordDecoy(
  comparison: PasswordComparison,
  stored?: () => Iterable<string>,
): PasswordDecoy | undefined {
  switch (comparison.mode) {
    case "plain":
      return undefined;
    case "crypt":
      return new CryptDecoy(stored && (() => firstHash(stored())));
    case "scheme":
      return new SchemeDecoy(comparison.defaultScheme, stored);
  }
}

/**
 * A response as lower-case hex text. Clients send the digest as hex text;
 * the reference's SASL library sends a CRAM-MD5 digest as its 16 raw bytes
 * (a hex digest is 32 characters, so 16 bytes cannot be hex text).
 */
function responseHex(type: string, response: Uint8Array): string {
  if (response.length === 16 && asciiLower(type) === "cram-md5") {
    return toHex(response);
  }
  return asciiLower(new TextDecoder().decode(response));
}

/** The mechanism a response type names, or undefined for one we do not know. */
function mechanismOf(type: string): ChallengeMechanism | undefined {
  const name = asciiLower(type);
  return name === "apop" || name === "cram-md5" ? name : undefined;
}

/** The expected response for a plain-text password. */
function plainResponse(
  mechanism: ChallengeMechanism,
  challenge: Uint8Array,
  password: Uint8Array,
): string {
  return toHex(
    mechanism === "apop"
      ? md5(challenge, password)
      : hmacMd5(password, challenge),
  );
}

/**
 * Checks a request's credentials against a stored password. A password
 * credential is compared by the scheme; challenge, response and response
 * type (APOP, CRAM-MD5) are checked against plain-text storage, and in
 * scheme mode against what the stored value allows (`{PLAIN}` both,
 * `{CRAM-MD5}` CRAM-MD5). An empty stored password never matches (and a
 * crypt hash such as `*` or `!…` cannot); an empty password credential is
 * none (the request view drops it), so the answer is NOCRED.
 *
 * @param scheme How the stored password is kept: a mode (scheme mode then
 *   reads unprefixed values as CRYPT), or the module's comparison.
 * @param request The request (its password or challenge-response credentials).
 * @param stored The stored password or hash.
 * @param decoy Checks that fail without a hash's work (a locked, empty or
 *   malformed stored value) do the work of one against it.
 * @returns True when the credentials match.
 * @throws {CvmError} NOCRED when the request has no credential this can
 *   check; CONFIG (an `UnknownSchemeError`) for a stored `{NAME}` that is
 *   no known scheme.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPassword } from "./check.ts";
 * const password = new TextEncoder().encode("secret");
 * assert.equal(await checkPassword("plain", { password }, "secret"), true);
 * assert.equal(await checkPassword("scheme", { password }, "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="), true);
 * ```
 */
export async function checkPassword(
  scheme: PasswordScheme | PasswordComparison,
  request: Pick<
    ModuleRequest,
    "password" | "challenge" | "response" | "responseType"
  >,
  stored: string,
  decoy?: PasswordDecoy,
): Promise<boolean> {
  const { mode, defaultScheme } = typeof scheme === "string"
    ? { mode: scheme, defaultScheme: "CRYPT" }
    : scheme;
  // The credentials are looked at first, as the reference does: with none
  // to check the answer is NOCRED, whatever is stored. An empty stored
  // password then never matches, in any scheme (its HMAC key would be
  // public, and "" would equal a password that should never be empty).
  if (request.password !== undefined) {
    if (mode === "plain") {
      return stored !== "" && bytesEqual(request.password, toBytes(stored));
    }
    if (stored === "") {
      // Never a match, but as costly as one: the timing must not tell.
      await decoy?.reject(request.password);
      return false;
    }
    if (mode === "crypt") {
      if (decoy instanceof CryptDecoy) {
        return await decoy.verify(request.password, stored);
      }
      const { verifyCrypt } = await import("../../sys/mod.ts");
      return await verifyCrypt(request.password, stored);
    }
    const verdict = await checkStored(stored, request.password, {
      defaultScheme,
    });
    if (verdict === "unusable") {
      await decoy?.reject(request.password);
      return false;
    }
    decoy?.observe(stored);
    return verdict === "match";
  }
  const { challenge, response, responseType } = request;
  if (
    mode !== "crypt" && challenge && response && responseType !== undefined
  ) {
    const mechanism = mechanismOf(responseType);
    if (mechanism === undefined) {
      throw new CvmError(ErrorCode.NOCRED, "unknown response type");
    }
    let expected: string | undefined;
    if (mode === "plain") {
      if (stored === "") return false;
      expected = plainResponse(mechanism, challenge, toBytes(stored));
    } else {
      if (stored === "") return false;
      const options = { defaultScheme };
      if (!storedScheme(stored, options).info.mechanisms.includes(mechanism)) {
        throw new CvmError(
          ErrorCode.NOCRED,
          "the stored password cannot answer this response type",
        );
      }
      expected = await storedResponse(stored, mechanism, challenge, options);
      if (expected === undefined) return false;
    }
    return bytesEqual(
      toBytes(responseHex(responseType, response)),
      toBytes(expected),
    );
  }
  throw new CvmError(ErrorCode.NOCRED, "no password credential");
}
