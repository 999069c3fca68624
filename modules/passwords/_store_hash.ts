/**
 * Scheme names and hashing for what a store keeps, until the `{SCHEME}`
 * registry lands: the crypt(3) family through libcrypt and plain text.
 *
 * @module
 */

import { crypt } from "../../sys/mod.ts";

/** Dovecot's names for one scheme, mapped to the name used here. */
const ALIASES: Readonly<Record<string, string>> = {
  PLAIN: "PLAIN",
  CLEAR: "PLAIN",
  CLEARTEXT: "PLAIN",
  CRYPT: "CRYPT",
  "DES-CRYPT": "CRYPT",
  MD5: "MD5-CRYPT",
  "MD5-CRYPT": "MD5-CRYPT",
  "SHA256-CRYPT": "SHA256-CRYPT",
  "SHA512-CRYPT": "SHA512-CRYPT",
};

/** The crypt(3) schemes: a setting maker for each. */
const CRYPT_SETTINGS: Readonly<Record<string, () => string>> = {
  CRYPT: () => salt(2),
  "MD5-CRYPT": () => `$1$${salt(8)}$`,
  "SHA256-CRYPT": () => `$5$${salt(16)}$`,
  "SHA512-CRYPT": () => `$6$${salt(16)}$`,
};

const SALT_CHARS =
  "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `length` random characters of crypt's salt alphabet. */
function salt(length: number): string {
  // 64 characters: a byte modulo 64 is uniform.
  return Array.from(
    crypto.getRandomValues(new Uint8Array(length)),
    (b) => SALT_CHARS[b % 64],
  ).join("");
}

/**
 * The canonical name of a scheme name (case-insensitive, aliases folded),
 * or undefined when it is not known.
 */
export function canonicalScheme(name: string): string | undefined {
  return ALIASES[name.toUpperCase()];
}

/** Whether a canonical scheme is hashed by crypt(3). */
export function isCryptScheme(scheme: string): boolean {
  return scheme in CRYPT_SETTINGS;
}

/** The crypt(3) family of a hash, by its prefix (DES when none). */
export function cryptFamily(hash: string): string {
  if (hash.startsWith("$1$")) return "MD5-CRYPT";
  if (hash.startsWith("$5$")) return "SHA256-CRYPT";
  if (hash.startsWith("$6$")) return "SHA512-CRYPT";
  if (/^\$2[abxy]\$/.test(hash)) return "BLF-CRYPT";
  const id = /^\$([^$]+)\$/.exec(hash);
  return id ? `CRYPT-${id[1]}` : "CRYPT";
}

/**
 * A password hashed with a scheme, without a `{SCHEME}` prefix: a crypt(3)
 * hash, or the plain text for PLAIN.
 */
export async function hashBare(
  scheme: string,
  password: Uint8Array,
): Promise<string> {
  if (scheme === "PLAIN") {
    return new TextDecoder("utf-8", { fatal: true }).decode(password);
  }
  const setting = CRYPT_SETTINGS[scheme];
  const hash = setting ? await crypt(password, setting()) : undefined;
  if (hash === undefined) throw new Error(`cannot hash with ${scheme}`);
  return hash;
}
