/**
 * The digest schemes: unsalted `SHA`/`SHA1`, `SHA256`, `SHA512` (and
 * OpenLDAP's `SHA384`), `PLAIN-MD5`/`LDAP-MD5`; salted `SSHA`, `SSHA256`,
 * `SSHA512` (and `SSHA384`), `SMD5`, stored as the digest of password and
 * salt followed by the salt. SHA digests come from WebCrypto, MD5 from
 * `md5.ts`; every comparison is constant-time.
 *
 * @module
 */

import { bytesEqual } from "../../protocol/mod.ts";
import { md5 } from "./md5.ts";
import type { SchemeCode } from "./scheme.ts";
import { randomBytes, verdict } from "./scheme.ts";

/** The digests the schemes use. */
export type DigestName = "MD5" | "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

/** How long each digest is, in bytes. */
const DIGEST_LENGTH: Readonly<Record<DigestName, number>> = {
  "MD5": 16,
  "SHA-1": 20,
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

/** The salt a new salted hash gets (Dovecot uses 4 bytes; more costs nothing). */
const SALT_LENGTH = 8;

/**
 * The digest of a password followed by a salt.
 *
 * @param name The digest.
 * @param password The password.
 * @param salt The salt (empty for an unsalted scheme).
 * @returns The digest bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digest } from "./digest_schemes.ts";
 * assert.equal((await digest("SHA-256", new TextEncoder().encode("pw"), new Uint8Array())).length, 32);
 * ```
 */
export async function digest(
  name: DigestName,
  password: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array> {
  if (name === "MD5") return md5(password, salt);
  const input = new Uint8Array(password.length + salt.length);
  input.set(password);
  input.set(salt, password.length);
  try {
    return new Uint8Array(await crypto.subtle.digest(name, input));
  } finally {
    input.fill(0);
  }
}

/**
 * An unsalted digest scheme: the stored bytes are the digest.
 *
 * @param name The digest.
 * @returns The scheme's code.
 * @example
 * ```ts
 * import { unsaltedScheme } from "./digest_schemes.ts";
 * const sha256 = unsaltedScheme("SHA-256");
 * ```
 */
export function unsaltedScheme(name: DigestName): SchemeCode {
  return {
    generate: (password) => digest(name, password, new Uint8Array()),
    async verify(password, raw) {
      if (raw.length !== DIGEST_LENGTH[name]) return "unusable";
      const made = await digest(name, password, new Uint8Array());
      return verdict(bytesEqual(made, raw));
    },
  };
}

/**
 * A salted digest scheme: the stored bytes are digest(password + salt)
 * then the salt, which must be at least one byte.
 *
 * @param name The digest.
 * @returns The scheme's code.
 * @example
 * ```ts
 * import { saltedScheme } from "./digest_schemes.ts";
 * const ssha512 = saltedScheme("SHA-512");
 * ```
 */
export function saltedScheme(name: DigestName): SchemeCode {
  const length = DIGEST_LENGTH[name];
  return {
    async generate(password) {
      const salt = randomBytes(SALT_LENGTH);
      const made = await digest(name, password, salt);
      const raw = new Uint8Array(length + salt.length);
      raw.set(made);
      raw.set(salt, length);
      return raw;
    },
    async verify(password, raw) {
      if (raw.length <= length) return "unusable";
      const made = await digest(name, password, raw.subarray(length));
      return verdict(bytesEqual(made, raw.subarray(0, length)));
    },
  };
}
