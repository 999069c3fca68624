/**
 * `PBKDF2` as Dovecot stores it: `$1$SALT$ROUNDS$HASH`, PBKDF2-HMAC-SHA1
 * (RFC 8018) of the password with the salt's text as salt, a 20-byte key
 * in lower-case hex. Derived by WebCrypto, off the event loop.
 *
 * @module
 */

import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import { DEFAULT_PBKDF2_ROUNDS } from "./cost_defaults.ts";
import { fromHex, toHex } from "./encoding.ts";
import type { HashParams, SchemeCode } from "./scheme.ts";
import { randomSaltText, verdict } from "./scheme.ts";

/** The length of a new salt, in characters (as Dovecot). */
const SALT_LENGTH = 16;

/** The key length of SHA-1. */
const KEY_LENGTH = 20;

/**
 * PBKDF2-HMAC with WebCrypto.
 *
 * @param hash The HMAC's hash ("SHA-1", "SHA-256").
 * @param password The password.
 * @param salt The salt.
 * @param rounds The iterations (at least 1).
 * @param length The key length in bytes.
 * @returns The derived key.
 * @example
 * ```ts
 * import { pbkdf2 } from "./pbkdf2.ts";
 * import { toHex } from "./encoding.ts";
 * const text = new TextEncoder();
 * import assert from "node:assert/strict";
 * assert.equal(toHex(await pbkdf2("SHA-1", text.encode("password"), text.encode("salt"), 2, 20)),
 *   "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"); // RFC 6070
 * ```
 */
export async function pbkdf2(
  hash: "SHA-1" | "SHA-256",
  password: Uint8Array,
  salt: Uint8Array,
  rounds: number,
  length: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    password.slice(),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash, salt: salt.slice(), iterations: rounds },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** The parts of a stored PBKDF2 value, or undefined when it is not one. */
function parse(
  raw: Uint8Array,
): { salt: string; rounds: number; key: Uint8Array } | undefined {
  const text = new TextDecoder().decode(raw);
  const match = /^\$1\$([^$]*)\$([0-9]{1,10})\$([0-9A-Fa-f]{40})$/.exec(text);
  if (!match) return undefined;
  const rounds = Number(match[2]);
  const key = fromHex(match[3]);
  if (rounds < 1 || rounds > 0xffffffff || key === undefined) return undefined;
  return { salt: match[1], rounds, key };
}

/** A new value: `$1$salt$rounds$hexkey`. */
async function make(
  password: Uint8Array,
  salt: string,
  rounds: number,
): Promise<Uint8Array> {
  const key = await pbkdf2(
    "SHA-1",
    password,
    toBytes(salt),
    rounds,
    KEY_LENGTH,
  );
  return toBytes(`$1$${salt}$${rounds}$${toHex(key)}`);
}

/**
 * The code of `PBKDF2`: `rounds` sets the iterations (default
 * `DEFAULT_PBKDF2_ROUNDS`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pbkdf2Scheme } from "./pbkdf2.ts";
 * const pw = new TextEncoder().encode("pw");
 * assert.equal(await pbkdf2Scheme.verify(pw, await pbkdf2Scheme.generate(pw, { rounds: 1000 })), "match");
 * ```
 */
export const pbkdf2Scheme: SchemeCode = {
  generate: (password: Uint8Array, params: HashParams) =>
    make(
      password,
      randomSaltText(SALT_LENGTH),
      params.rounds || DEFAULT_PBKDF2_ROUNDS,
    ),
  async verify(password, raw) {
    const stored = parse(raw);
    if (stored === undefined) return "unusable";
    const key = await pbkdf2(
      "SHA-1",
      password,
      toBytes(stored.salt),
      stored.rounds,
      KEY_LENGTH,
    );
    return verdict(bytesEqual(key, stored.key));
  },
};
