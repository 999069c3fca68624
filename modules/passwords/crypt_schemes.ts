/**
 * The crypt(3) schemes, all through the system's libxcrypt: `CRYPT` (any
 * hash the system knows; new ones in its default scheme, yescrypt on
 * Debian), `DES-CRYPT`, `MD5-CRYPT`, `SHA256-CRYPT`, `SHA512-CRYPT`,
 * `BLF-CRYPT` (bcrypt, `$2y$`), and `MD5`, which Dovecot reads as an
 * MD5-CRYPT hash or else a bare MD5 digest (hex or base64) and makes as
 * MD5-CRYPT. Settings come from libxcrypt's crypt_gensalt.
 *
 * @module
 */

import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import { crypt, cryptGensalt } from "../../sys/mod.ts";
import { DEFAULT_BLF_COST } from "./cost_defaults.ts";
import { decodeStored } from "./encoding.ts";
import { md5 } from "./md5.ts";
import type { HashParams, SchemeCode, Verdict } from "./scheme.ts";
import { verdict } from "./scheme.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The stored bytes as text, or undefined when they are not UTF-8. */
function text(raw: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(raw);
  } catch {
    return undefined;
  }
}

/** Checks a password with crypt(3) against a stored hash. */
async function cryptVerify(
  password: Uint8Array,
  raw: Uint8Array,
): Promise<Verdict> {
  const stored = text(raw);
  if (stored === undefined || stored === "") return "unusable";
  const hash = await crypt(password, stored);
  // Refused (a lock such as `*` or `!…`), or read as a DES salt: no hash.
  if (hash === undefined || hash.length !== stored.length) return "unusable";
  return verdict(bytesEqual(toBytes(hash), raw));
}

/** Makes a hash with a fresh setting of `prefix` (undefined: the system's default). */
async function cryptGenerate(
  password: Uint8Array,
  prefix: string | undefined,
  count: number,
): Promise<Uint8Array> {
  const setting = cryptGensalt(prefix, count);
  const hash = setting === undefined
    ? undefined
    : await crypt(password, setting);
  if (hash === undefined) {
    throw new Error(
      `libcrypt cannot make a ${prefix ?? "default"} hash at cost ${count}`,
    );
  }
  return toBytes(hash);
}

/** A crypt scheme making new hashes with `prefix` at `count` (or `rounds`). */
function cryptScheme(
  prefix: string | undefined,
  defaultCount: number,
  takesRounds: boolean,
): SchemeCode {
  return {
    generate: (password: Uint8Array, params: HashParams) =>
      cryptGenerate(
        password,
        prefix,
        takesRounds && params.rounds ? params.rounds : defaultCount,
      ),
    verify: cryptVerify,
  };
}

/**
 * `CRYPT`: any hash crypt(3) knows; new hashes in the system's default
 * scheme and cost (`rounds` is that scheme's cost, e.g. yescrypt's 1–11).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cryptAny } from "./crypt_schemes.ts";
 * const raw = await cryptAny.generate(new TextEncoder().encode("pw"), {});
 * assert.match(new TextDecoder().decode(raw), /^\$/); // the system's default method
 * ```
 */
export const cryptAny: SchemeCode = cryptScheme(undefined, 0, true);

/**
 * `DES-CRYPT`: traditional DES crypt (two salt characters, 8 password
 * bytes); any crypt(3) hash verifies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { desCrypt } from "./crypt_schemes.ts";
 * assert.equal(new TextDecoder().decode(await desCrypt.generate(new TextEncoder().encode("pw"), {})).length, 13);
 * ```
 */
export const desCrypt: SchemeCode = cryptScheme("", 0, false);

/**
 * `MD5-CRYPT`: `$1$` hashes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5Crypt } from "./crypt_schemes.ts";
 * const raw = await md5Crypt.generate(new TextEncoder().encode("pw"), {});
 * assert.match(new TextDecoder().decode(raw), /^\$1\$/);
 * ```
 */
export const md5Crypt: SchemeCode = cryptScheme("$1$", 0, false);

/**
 * `SHA256-CRYPT`: `$5$` hashes, 5000 rounds unless `rounds` says otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Crypt } from "./crypt_schemes.ts";
 * const raw = await sha256Crypt.generate(new TextEncoder().encode("pw"), { rounds: 10000 });
 * assert.match(new TextDecoder().decode(raw), /^\$5\$rounds=10000\$/);
 * ```
 */
export const sha256Crypt: SchemeCode = cryptScheme("$5$", 0, true);

/**
 * `SHA512-CRYPT`: `$6$` hashes, 5000 rounds unless `rounds` says otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha512Crypt } from "./crypt_schemes.ts";
 * const raw = await sha512Crypt.generate(new TextEncoder().encode("pw"), {});
 * assert.match(new TextDecoder().decode(raw), /^\$6\$/);
 * ```
 */
export const sha512Crypt: SchemeCode = cryptScheme("$6$", 0, true);

const blfGenerate = cryptScheme("$2y$", DEFAULT_BLF_COST, true).generate;

/**
 * `BLF-CRYPT`: bcrypt, `$2y$` with a log2 cost of `DEFAULT_BLF_COST`
 * unless `rounds` says otherwise (4–31). As in Dovecot, only a `$2?$` hash
 * verifies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blfCrypt } from "./crypt_schemes.ts";
 * const raw = await blfCrypt.generate(new TextEncoder().encode("pw"), { rounds: 4 });
 * assert.match(new TextDecoder().decode(raw), /^\$2[aby]\$04\$/);
 * ```
 */
export const blfCrypt: SchemeCode = {
  generate: blfGenerate,
  verify(password, raw) {
    const stored = text(raw) ?? "";
    if (!/^\$2[a-z]\$/.test(stored) || stored.length < 30) {
      return Promise.resolve("unusable");
    }
    return cryptVerify(password, raw);
  },
};

/** The stored bytes of `MD5` read as a bare MD5 digest, if they are one. */
function md5Digest(raw: Uint8Array): Uint8Array | undefined {
  const stored = text(raw);
  return stored === undefined
    ? undefined
    : decodeStored(stored, "hex", 16, false);
}

/**
 * `MD5`: an MD5-CRYPT hash (`$1$…`) or, failing that, a bare MD5 digest
 * in hex or base64 (OpenLDAP's `{MD5}`); new hashes are MD5-CRYPT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { md5Either } from "./crypt_schemes.ts";
 * const pw = new TextEncoder().encode("secret");
 * assert.equal(await md5Either.verify(pw, new TextEncoder().encode("5ebe2294ecd0e0f08eab7690d2a6ee69")), "match");
 * ```
 */
export const md5Either: SchemeCode = {
  generate: md5Crypt.generate,
  verify(password, raw) {
    if (text(raw)?.startsWith("$1$")) return cryptVerify(password, raw);
    const stored = md5Digest(raw);
    if (stored === undefined) return Promise.resolve("unusable");
    return Promise.resolve(verdict(bytesEqual(md5(password), stored)));
  },
};
