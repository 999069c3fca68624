/**
 * Checks a password against a `userPassword` value as OpenLDAP stores it,
 * through the password-scheme registry: `{CRYPT}` (crypt(3) through the
 * system's libcrypt), `{SHA}`, `{SSHA}`, `{SHA256}`/`{SSHA256}`,
 * `{SHA384}`/`{SSHA384}`, `{SHA512}`/`{SSHA512}`, `{MD5}`, `{SMD5}`,
 * `{CLEARTEXT}`, plain text, and every other scheme the registry knows
 * (`{ARGON2ID}`, `{BLF-CRYPT}`, `{PBKDF2}` …). Digests are compared in
 * constant time. A locked value never validates.
 *
 * @module
 */

import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import { UnknownSchemeError, verifyPassword } from "../passwords/mod.ts";

/** Splits `{SCHEME}rest`; a value without a leading `{…}` is plain text. */
function splitScheme(
  stored: string,
): { scheme: string; rest: string } | undefined {
  const match = /^\{([A-Za-z0-9._-]+)\}/.exec(stored);
  if (!match) return undefined;
  return {
    scheme: match[1].toUpperCase(),
    rest: stored.slice(match[0].length),
  };
}

/**
 * Whether a stored value is locked: empty, or (after an optional
 * `{CRYPT}` or `{CLEARTEXT}`) starting with `!` or `*`, the marks `passwd
 * -l` and account tools put in front of a hash.
 *
 * @param stored The `userPassword` value.
 * @returns True when it must never validate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLockedPassword } from "./verify_password.ts";
 * assert.equal(isLockedPassword("{CRYPT}!$6$salt$hash"), true);
 * assert.equal(isLockedPassword("{SSHA}abcd"), false);
 * ```
 */
export function isLockedPassword(stored: string | Uint8Array): boolean {
  const text = typeof stored === "string"
    ? stored
    : new TextDecoder().decode(stored);
  const split = splitScheme(text);
  const body =
    split && (split.scheme === "CRYPT" || split.scheme === "CLEARTEXT")
      ? split.rest
      : split
      ? "x"
      : text;
  return body === "" || body.startsWith("!") || body.startsWith("*");
}

/**
 * Checks a password against one stored `userPassword` value. Schemes are
 * matched case-insensitively; an unknown `{SCHEME}` never validates (a
 * value is only read as plain text when it has no `{…}` prefix), nor does
 * a locked value or an empty password.
 *
 * @param stored The `userPassword` value, as text or its raw bytes.
 * @param password The password the client sent.
 * @returns True when it matches.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyUserPassword } from "./verify_password.ts";
 * const pw = new TextEncoder().encode("secret");
 * assert.equal(
 *   await verifyUserPassword("{SSHA}6RFMqVVWQ4OPrR61YvCY3Ut9LkMlBIj6", pw),
 *   true,
 * );
 * assert.equal(await verifyUserPassword("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", pw), true);
 * assert.equal(await verifyUserPassword("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
 *   new TextEncoder().encode("wrong")), false);
 * ```
 */
export async function verifyUserPassword(
  stored: string | Uint8Array,
  password: Uint8Array,
): Promise<boolean> {
  const bytes = typeof stored === "string" ? toBytes(stored) : stored;
  if (password.length === 0 || isLockedPassword(bytes)) return false;
  // Without a `{…}` prefix the value is plain text (OpenLDAP's reading; a
  // bare `$1$…` is not MD5-CRYPT here).
  if (splitScheme(new TextDecoder().decode(bytes)) === undefined) {
    return bytesEqual(password, bytes);
  }
  try {
    return await verifyPassword(bytes, password);
  } catch (e) {
    if (e instanceof UnknownSchemeError) return false;
    throw e;
  }
}
