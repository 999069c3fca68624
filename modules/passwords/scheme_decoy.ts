/**
 * The timing decoy of scheme mode: a check that fails without a hash's
 * work (an unknown account, a locked, empty or malformed stored value)
 * does the work of checking against a dummy value in the scheme the store
 * uses most, at that value's cost. Without it an unknown account would be
 * answered at once while a known one costs an Argon2 or bcrypt hash.
 *
 * @module
 */

import { toBytes } from "../../protocol/mod.ts";
import {
  checkStored,
  dummyLike,
  hashPassword,
  storedScheme,
} from "./registry.ts";

/** How many values of each scheme family were seen, and the first of them. */
interface FamilyCount {
  count: number;
  model: string;
}

/** A dummy value being made (or made) to mimic a stored value. */
interface DummyValue {
  /** The stored value it mimics (undefined: the default scheme's). */
  model: string | undefined;
  /** The dummy, once made. */
  value: Promise<string | undefined>;
  /** The dummy, when `value` has settled. */
  made?: string;
}

/**
 * One backend's scheme-mode decoy. It never accepts: the result of its
 * check is never looked at, and the dummy value is of a random password.
 */
export class SchemeDecoy {
  readonly #defaultScheme: string;
  readonly #sample?: () => Iterable<string>;
  #sampled = false;
  readonly #families = new Map<string, FamilyCount>();
  #dummy?: DummyValue;

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
    const seen = this.#families.get(family);
    if (seen) seen.count++;
    else this.#families.set(family, { count: 1, model: stored });
  }

  /**
   * Spends the work of checking a password against a value of the store's
   * most used scheme, and rejects. Until the dummy value of that scheme is
   * made, the check is against the stored value it mimics (its result is
   * never looked at), so that the first decoy, the only one in command
   * mode, costs one check, as a real one does; the dummy is made after it.
   *
   * @param phrase The password given; without one there is nothing to hash.
   * @returns Always false.
   * @example
   * ```ts
   * import { SchemeDecoy } from "./scheme_decoy.ts";
   * await new SchemeDecoy("SSHA").reject(new TextEncoder().encode("pw")); // false
   * ```
   */
  async reject(phrase: Uint8Array | undefined): Promise<false> {
    if (phrase === undefined) return false;
    const model = this.#model();
    let dummy = this.#dummy?.model === model ? this.#dummy : undefined;
    let against = dummy?.made;
    if (against === undefined && model !== undefined) against = model;
    else if (against === undefined) {
      dummy ??= this.#startDummy(model);
      against = await dummy.value;
    }
    if (against !== undefined) {
      await checkStored(against, phrase, { defaultScheme: this.#defaultScheme })
        .catch(() => "unusable");
    }
    if (dummy === undefined) this.#startDummy(model);
    return false;
  }

  /** The first value of the most used scheme family (the store sampled once). */
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
    for (const { count, model: first } of this.#families.values()) {
      if (count > most) [most, model] = [count, first];
    }
    return model;
  }

  /** Starts making the dummy value that mimics `model`. */
  #startDummy(model: string | undefined): DummyValue {
    const dummy: DummyValue = { model, value: this.#make(model) };
    dummy.value.then((made) => dummy.made = made, () => {});
    this.#dummy = dummy;
    return dummy;
  }

  async #make(model: string | undefined): Promise<string | undefined> {
    // A store that was listed and holds nothing to mimic: no decoy.
    if (model === undefined && this.#sample) return undefined;
    const options = { defaultScheme: this.#defaultScheme };
    const like = model === undefined
      ? undefined
      : await dummyLike(model, options);
    if (like !== undefined) return like;
    const secret = crypto.getRandomValues(new Uint8Array(16));
    const phrase = toBytes(Array.from(secret, (b) => b.toString(16)).join(""));
    return await hashPassword(this.#defaultScheme, phrase).catch(() =>
      undefined
    );
  }
}
