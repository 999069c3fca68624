/**
 * What a password scheme's code provides to the registry: making a hash
 * and checking a password against one, on the scheme's raw bytes (the
 * text after `{NAME}`, once its encoding is undone).
 *
 * @module
 */

/** The challenge-response mechanisms of the cvm protocol. */
export type ChallengeMechanism = "apop" | "cram-md5";

/**
 * Cost parameters for making a hash; each scheme reads those it has and
 * ignores the rest. Zero or unset means the scheme's default.
 */
export interface HashParams {
  /**
   * Rounds: SHA256-/SHA512-CRYPT rounds, BLF-CRYPT's log2 cost, the
   * iterations of PBKDF2 and SCRAM, Argon2's passes (t), yescrypt's cost.
   */
  rounds?: number;
  /** Argon2's memory, in KiB (m). */
  memoryKiB?: number;
  /** Argon2's lanes (p). */
  parallelism?: number;
}

/** One scheme's code, loaded when the scheme is first used. */
export interface SchemeCode {
  /**
   * Makes a new hash of a password (with a fresh salt).
   *
   * @param password The password; it holds no NUL.
   * @param params Cost parameters.
   * @returns The raw bytes, before encoding.
   */
  generate(password: Uint8Array, params: HashParams): Promise<Uint8Array>;
  /**
   * Checks a password against raw stored bytes, in constant time where a
   * comparison is made.
   *
   * @returns "match", "mismatch", or "unusable" when the raw bytes are no
   *   hash of this scheme (a lock, a malformed value): never a match.
   */
  verify(password: Uint8Array, raw: Uint8Array): Promise<Verdict>;
  /**
   * The response a challenge-response mechanism expects, as lower-case
   * hex, computed from the stored raw bytes; undefined when the stored
   * value cannot answer that mechanism.
   */
  expectedResponse?(
    raw: Uint8Array,
    mechanism: ChallengeMechanism,
    challenge: Uint8Array,
  ): string | undefined;
}

/** The outcome of checking a password against a stored value. */
export type Verdict = "match" | "mismatch" | "unusable";

/**
 * The verdict of a comparison.
 *
 * @param equal Whether the values compared equal.
 * @returns "match" or "mismatch".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdict } from "./scheme.ts";
 * assert.equal(verdict(true), "match");
 * ```
 */
export function verdict(equal: boolean): Verdict {
  return equal ? "match" : "mismatch";
}

/**
 * Random bytes from the system's generator.
 *
 * @param length How many.
 * @returns The bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBytes } from "./scheme.ts";
 * assert.equal(randomBytes(4).length, 4);
 * ```
 */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** The salt characters of crypt(3) and Dovecot's text salts. */
const SALT_CHARS =
  "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A random salt of crypt(3)'s 64 characters, as Dovecot makes for PBKDF2.
 *
 * @param length How many characters.
 * @returns The salt.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomSaltText } from "./scheme.ts";
 * assert.equal(randomSaltText(16).length, 16);
 * ```
 */
export function randomSaltText(length: number): string {
  // 256 is a multiple of 64: every character is equally likely.
  return Array.from(randomBytes(length), (b) => SALT_CHARS[b & 63]).join("");
}
