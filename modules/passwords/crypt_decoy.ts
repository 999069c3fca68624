/**
 * Keeps the time a crypt(3) password check takes from telling which
 * accounts exist. Without it an unknown account, or a locked one (`*`,
 * `!…`, empty), is answered at once, while a real one costs a hash:
 * 0.4 ms against 4 ms for SHA-512 and 40 ms for yescrypt. A decoy spends
 * the same work on those: it hashes the password given against a dummy
 * hash of the scheme and cost the store really uses, and never accepts.
 *
 * @module
 */

import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import { crypt, defaultCryptSetting } from "../../sys/mod.ts";

/** A modular crypt hash (`$id$…`), a BSDi one (`_`, 20 characters) or a DES one (13). */
const HASH_FORM = /^(?:\$[^$]+\$|_[./0-9A-Za-z]{19}$|[./0-9A-Za-z]{13}$)/;

/**
 * Whether a stored password has the form of a crypt(3) hash, i.e. is not a
 * lock (`*`, `!…`, `x`) or empty. crypt itself is the final judge.
 *
 * @param stored The stored password.
 * @returns True when it looks like a hash.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksLikeHash } from "./crypt_decoy.ts";
 * assert.equal(looksLikeHash("$6$salt$abc"), true);
 * assert.equal(looksLikeHash("!$6$salt$abc"), false);
 * ```
 */
export function looksLikeHash(stored: string): boolean {
  return HASH_FORM.test(stored);
}

/**
 * The first stored password that looks like a crypt(3) hash.
 *
 * @param passwords Stored passwords, in the store's order.
 * @returns The first hash, or undefined when there is none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstHash } from "./crypt_decoy.ts";
 * assert.equal(firstHash(["*", "!x", "$5$s$h"]), "$5$s$h");
 * ```
 */
export function firstHash(passwords: Iterable<string>): string | undefined {
  for (const password of passwords) {
    if (looksLikeHash(password)) return password;
  }
  return undefined;
}

/**
 * One backend's decoy. The dummy hash is made once, lazily, from a hash of
 * the store: the first usable one a check meets, else what `sample` finds
 * (when it finds none, the store holds no hash to mimic and a decoy does
 * nothing), else, for a backend that cannot sample its store, libxcrypt's
 * default scheme and cost. The dummy hash is of a random password nobody
 * knows, and its result is never looked at.
 */
export class CryptDecoy {
  readonly #sample?: () => string | undefined;
  #real?: string;
  #sampled = false;
  #dummy?: { from: string | undefined; hash: Promise<string | undefined> };

  /**
   * Makes a decoy.
   *
   * @param sample Finds a hash the store holds (e.g. the first in the file);
   *   called once, when a decoy is first needed before any real hash was
   *   met. Without it, the library's default scheme stands in.
   * @example
   * ```ts
   * import { CryptDecoy } from "./crypt_decoy.ts";
   * const decoy = new CryptDecoy(() => "$6$saltsalt$");
   * ```
   */
  constructor(sample?: () => string | undefined) {
    this.#sample = sample;
  }

  /**
   * Notes a hash the store holds; the first usable one sets the scheme and
   * cost of the dummy hash.
   *
   * @param stored A stored password (locks and plain text are ignored).
   * @example
   * ```ts
   * import { CryptDecoy } from "./crypt_decoy.ts";
   * new CryptDecoy().observe("$6$saltsalt$");
   * ```
   */
  observe(stored: string | undefined): void {
    if (this.#real === undefined && stored && looksLikeHash(stored)) {
      this.#real = stored;
    }
  }

  /**
   * Checks a password against a stored crypt(3) hash, as `verifyCrypt`
   * does; a stored value that is no usable hash (locked, empty) costs a
   * decoy's work instead of nothing.
   *
   * @param phrase The password given.
   * @param stored The stored hash.
   * @returns True only when crypt(phrase, stored) reproduces `stored`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CryptDecoy } from "./crypt_decoy.ts";
   * assert.equal(await new CryptDecoy().verify(new TextEncoder().encode("pw"), "*"), false);
   * ```
   */
  async verify(phrase: Uint8Array, stored: string): Promise<boolean> {
    const hash = await crypt(phrase, stored);
    if (hash === undefined || hash.length !== stored.length) {
      // crypt refused it at once (a lock), or took it for a DES salt: cheap.
      await this.reject(phrase);
      return false;
    }
    this.observe(stored);
    return bytesEqual(toBytes(hash), toBytes(stored));
  }

  /**
   * Spends the work of checking a password against a hash of the store's
   * usual scheme and cost, and rejects.
   *
   * @param phrase The password given; without one there is nothing to hash.
   * @returns Always false.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CryptDecoy } from "./crypt_decoy.ts";
   * assert.equal(await new CryptDecoy().reject(new TextEncoder().encode("pw")), false);
   * ```
   */
  async reject(phrase: Uint8Array | undefined): Promise<false> {
    if (phrase === undefined) return false;
    const dummy = await this.#dummyHash();
    if (dummy !== undefined) await crypt(phrase, dummy);
    return false;
  }

  /** The dummy hash, made again only when a real hash is first met. */
  #dummyHash(): Promise<string | undefined> {
    if (this.#real === undefined && this.#sample && !this.#sampled) {
      this.observe(this.#sample()); // a throw: sampled again next time
      this.#sampled = true;
    }
    if (this.#dummy === undefined || this.#dummy.from !== this.#real) {
      const from = this.#real ??
        (this.#sample ? undefined : defaultCryptSetting());
      this.#dummy = { from: this.#real, hash: makeDummy(from) };
    }
    return this.#dummy.hash;
  }
}

/** A hash of a random password with the setting (scheme, cost) of `from`. */
async function makeDummy(
  from: string | undefined,
): Promise<string | undefined> {
  if (from === undefined) return undefined;
  const secret = crypto.getRandomValues(new Uint8Array(24));
  // Printable, since some schemes stop at a NUL.
  const phrase = toBytes(Array.from(secret, (b) => b.toString(16)).join(""));
  const hash = await crypt(phrase, from);
  if (hash !== undefined) return hash;
  // A sample crypt refuses: fall back to the library's default.
  const fallback = defaultCryptSetting();
  return fallback === undefined ? undefined : await crypt(phrase, fallback);
}
