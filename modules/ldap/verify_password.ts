/**
 * Checks a password against a `userPassword` value as OpenLDAP stores it:
 * `{CRYPT}` (crypt(3) through the system's libcrypt), `{SHA}`, `{SSHA}`,
 * `{SHA256}`/`{SSHA256}`, `{SHA384}`/`{SSHA384}`, `{SHA512}`/`{SSHA512}`,
 * `{MD5}`, `{SMD5}`, `{CLEARTEXT}` and plain text. Digests are compared in
 * constant time. A locked value never validates.
 *
 * This is the one place compare mode asks; the password-scheme registry
 * will take its place.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import { verifyCrypt } from "../../sys/mod.ts";

/** The digest behind each salted or unsalted scheme, and its length. */
const DIGESTS: Readonly<
  Record<string, { hash: string; length: number; salted: boolean }>
> = {
  SHA: { hash: "sha1", length: 20, salted: false },
  SSHA: { hash: "sha1", length: 20, salted: true },
  SHA256: { hash: "sha256", length: 32, salted: false },
  SSHA256: { hash: "sha256", length: 32, salted: true },
  SHA384: { hash: "sha384", length: 48, salted: false },
  SSHA384: { hash: "sha384", length: 48, salted: true },
  SHA512: { hash: "sha512", length: 64, salted: false },
  SSHA512: { hash: "sha512", length: 64, salted: true },
  MD5: { hash: "md5", length: 16, salted: false },
  SMD5: { hash: "md5", length: 16, salted: true },
};

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

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
 * import { isLockedPassword } from "./verify_password.ts";
 * isLockedPassword("{CRYPT}!$6$salt$hash"); // true
 * isLockedPassword("{SSHA}abcd"); // false
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

function digestMatches(
  spec: { hash: string; length: number; salted: boolean },
  encoded: string,
  password: Uint8Array,
): boolean {
  if (!BASE64.test(encoded)) return false;
  const decoded = Buffer.from(encoded, "base64");
  const saltLength = decoded.length - spec.length;
  if (spec.salted ? saltLength < 1 : saltLength !== 0) return false;
  const expected = decoded.subarray(0, spec.length);
  const salt = decoded.subarray(spec.length);
  const actual = createHash(spec.hash).update(password).update(salt).digest();
  return timingSafeEqual(actual, expected);
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
 * import { verifyUserPassword } from "./verify_password.ts";
 * const pw = new TextEncoder().encode("secret");
 * await verifyUserPassword("{SSHA}6RFMqVVWQ4OPrR61YvCY3Ut9LkMlBIj6", pw); // true
 * await verifyUserPassword("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", pw); // true
 * ```
 */
export async function verifyUserPassword(
  stored: string | Uint8Array,
  password: Uint8Array,
): Promise<boolean> {
  const bytes = typeof stored === "string" ? toBytes(stored) : stored;
  if (password.length === 0 || isLockedPassword(bytes)) return false;
  const text = new TextDecoder().decode(bytes);
  const split = splitScheme(text);
  if (split === undefined) return bytesEqual(password, bytes);
  if (split.scheme === "CLEARTEXT") {
    // The prefix is ASCII: the rest starts at the same byte as character.
    return bytesEqual(password, bytes.subarray(text.indexOf("}") + 1));
  }
  if (split.scheme === "CRYPT") return await verifyCrypt(password, split.rest);
  const spec = DIGESTS[split.scheme];
  return spec !== undefined && digestMatches(spec, split.rest, password);
}
