/**
 * The timing decoy of scheme mode: a check that fails without a hash's
 * work (an unknown account, a locked, empty or malformed stored value)
 * does the work of a real check in the scheme the store uses most, at the
 * cost of its values. Without it an unknown account would be answered at
 * once while a known one costs an Argon2 or bcrypt hash.
 *
 * @module
 */

import { toBytes } from "../../protocol/mod.ts";
import { checkStored, hashPassword, storedScheme } from "./registry.ts";

/** How many values of each scheme family were seen, and the first usable one. */
interface FamilyCount {
  count: number;
  model?: string;
}

/** A stored value that is a lock or empty: no check's work to mimic. */
const LOCKED = /^(?:\{[^}]*\})?(?:[!*]|$)/;

/**
 * One backend's scheme-mode decoy. It never accepts: the result of its
 * check is never looked at.
 *
 * The check is against a stored value of the store's most used scheme
 * family (the first usable one of that family), so that it costs exactly
 * what a real check of such a value costs: the same scheme, rounds,
 * memory, lanes. Its result is dropped, so which password that value
 * holds does not matter. A store with no value to mimic (SQL before any
 * check) uses a value of the default scheme, made once, of a random
 * password. Nothing runs in the background: every hash is awaited.
 */
export class SchemeDecoy {
  readonly #defaultScheme: string;
  readonly #sample?: () => Iterable<string>;
  #sampled = false;
  readonly #families = new Map<string, FamilyCount>();
  #fallback?: Promise<string | undefined>;

  /**
   * Makes a decoy.
   *
   * @param defaultScheme The scheme of a value without a prefix.
   * @param sample Lists the store's stored values (called once, when a
   *   decoy is first needed). Without it, the values the checks meet count,
   *   and before any, the default scheme at its default cost.
   * @example
   * ```ts
   * import { SchemeDecoy } from "./scheme_decoy.ts";
   * const decoy = new SchemeDecoy("CRYPT", () => ["{SSHA}6RFMqVVWQ4OPrR61YvCY3Ut9LkMlBIj6"]);
   * ```
   */
  constructor(defaultScheme: string, sample?: () => Iterable<string>) {
    this.#defaultScheme = defaultScheme;
    this.#sample = sample;
  }

  /**
   * Counts a stored value towards its scheme family (empty values and
   * unknown schemes do not count).
   *
   * @param stored A stored value.
   * @example
   * ```ts
   * import { SchemeDecoy } from "./scheme_decoy.ts";
   * new SchemeDecoy("CRYPT").observe("{SHA256-CRYPT}$5$salt$hash");
   * ```
   */
  observe(stored: string | undefined): void {
    if (!stored) return;
    let family: string;
    try {
      family = storedScheme(stored, { defaultScheme: this.#defaultScheme })
        .info.family;
    } catch {
      return;
    }
    const seen = this.#families.get(family) ??
      this.#families.set(family, { count: 0 }).get(family)!;
    seen.count++;
    if (seen.model === undefined && !LOCKED.test(stored)) seen.model = stored;
  }

  /**
   * Spends the work of checking a password against a value of the store's
   * most used scheme, and rejects.
   *
   * @param phrase The password given; without one there is nothing to hash.
   * @returns Always false.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SchemeDecoy } from "./scheme_decoy.ts";
   * assert.equal(await new SchemeDecoy("SSHA").reject(new TextEncoder().encode("pw")), false);
   * ```
   */
  async reject(phrase: Uint8Array | undefined): Promise<false> {
    if (phrase === undefined) return false;
    const against = this.#model() ?? await this.#fallbackValue();
    if (against !== undefined) {
      await checkStored(against, phrase, { defaultScheme: this.#defaultScheme })
        .catch(() => "unusable");
    }
    return false;
  }

  /** The usable value of the most used scheme family (the store sampled once). */
  #model(): string | undefined {
    if (this.#sample && !this.#sampled) {
      this.#sampled = true;
      try {
        for (const stored of this.#sample()) this.observe(stored);
      } catch {
        this.#sampled = false; // the store could not be read: next time
      }
    }
    let model: string | undefined;
    let most = 0;
    for (const family of this.#families.values()) {
      if (family.model !== undefined && family.count > most) {
        [most, model] = [family.count, family.model];
      }
    }
    return model;
  }

  /**
   * For a store that cannot be listed and has met no value yet: a value of
   * the default scheme, of a random password, made once. A store that was
   * listed and holds nothing to mimic gets none.
   */
  #fallbackValue(): Promise<string | undefined> {
    if (this.#sample) return Promise.resolve(undefined);
    return this.#fallback ??= (async () => {
      const secret = crypto.getRandomValues(new Uint8Array(16));
      const phrase = toBytes(
        Array.from(secret, (b) => b.toString(16)).join(""),
      );
      return await hashPassword(this.#defaultScheme, phrase).catch(() =>
        undefined
      );
    })();
  }
}
