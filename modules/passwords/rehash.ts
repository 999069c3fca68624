/**
 * Upgrade on login (`$CVM_REHASH=SCHEME`): after a login with the plain
 * password whose stored value uses another scheme, the module stores the
 * password hashed with SCHEME. This file decides whether to, makes the
 * value in the store's form and reports a failed write; each backend
 * writes it its own way (a file replaced under its lock, an SQL
 * statement). It generalises vmailmgr's autoconvert.
 *
 * The store's form follows its `…_PWCMP`: `crypt` keeps bare crypt(3)
 * hashes (so SCHEME must be one of the crypt family), `scheme` keeps
 * `{SCHEME}hash`, and `plain` cannot hold a hash at all.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import { findScheme, hashPassword, isStoredInScheme } from "./registry.ts";

/** How a store keeps its passwords: its `…_PWCMP`. */
export type StoreForm = "plain" | "crypt" | "scheme";

/** The scheme `cvm cdbpasswd` hashes with when not told otherwise. */
export const DEFAULT_STORE_SCHEME = "SHA512-CRYPT";

/**
 * The canonical name of a scheme a store can be given, checked against
 * the store's form.
 *
 * @param what What named the scheme, for the error: "$CVM_REHASH", "-s".
 * @param name The scheme's name (case-insensitive; Dovecot's aliases).
 * @param form The store's form.
 * @returns The canonical name, e.g. "SHA512-CRYPT".
 * @throws {CvmError} CONFIG naming `variable` for an unknown scheme, one
 *   the form cannot hold (crypt: only crypt(3) schemes; plain: only PLAIN).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storeScheme } from "./rehash.ts";
 * assert.equal(storeScheme("$CVM_REHASH", "sha512-crypt", "crypt"), "SHA512-CRYPT");
 * ```
 */
export function storeScheme(
  what: string,
  name: string,
  form: StoreForm,
): string {
  const ref = findScheme(name);
  if (ref === undefined) {
    throw new CvmError(ErrorCode.CONFIG, `${what}: unknown scheme`);
  }
  if (form === "crypt" && !ref.info.family.endsWith("CRYPT")) {
    throw new CvmError(
      ErrorCode.CONFIG,
      `${what}: a crypt store holds only crypt(3) schemes`,
    );
  }
  if (form === "plain" && ref.info.family !== "PLAIN") {
    throw new CvmError(
      ErrorCode.CONFIG,
      `${what}: a plain store holds only plain text (use PWCMP=scheme)`,
    );
  }
  return ref.label;
}

/**
 * A password as a store of the given form keeps it: plain text, a bare
 * crypt(3) hash, or `{SCHEME}hash`.
 *
 * @param form The store's form.
 * @param scheme A canonical scheme the form can hold (see {@link storeScheme}).
 * @param password The password.
 * @returns The value to store.
 * @example
 * ```ts
 * import { hashForStore } from "./rehash.ts";
 * import assert from "node:assert/strict";
 * const stored = await hashForStore("scheme", "SHA512-CRYPT", new TextEncoder().encode("pw"));
 * assert.match(stored, /^\{SHA512-CRYPT\}\$6\$/);
 * ```
 */
export async function hashForStore(
  form: StoreForm,
  scheme: string,
  password: Uint8Array,
): Promise<string> {
  const value = await hashPassword(scheme, password);
  // A crypt or plain store keeps the text without its `{SCHEME}` prefix.
  return form === "scheme" ? value : value.slice(value.indexOf("}") + 1);
}

/** Writes a new stored value; resolves false when the store changed meanwhile. */
export type RehashWrite = (value: string) => Promise<boolean | void>;

/**
 * One module's upgrade on login: `afterLogin` after each successful login
 * with a password. A failed write never fails the login: it is said once
 * on stderr (again only after a write succeeded or the reason changed),
 * and never with the password or the new hash.
 */
export class Rehasher {
  readonly #program: string;
  readonly #form: StoreForm;
  readonly #scheme: string;
  readonly #defaultScheme: string;
  readonly #warn: (line: string) => void;
  #said?: string;

  /**
   * Makes the rehasher.
   *
   * @param program The program name for the stderr line, e.g. "cvm-cdb".
   * @param form The store's form.
   * @param scheme The canonical target scheme (see {@link storeScheme}).
   * @param defaultScheme The scheme of a stored value without a prefix.
   * @param warn Where the line about a failed write goes (stderr).
   * @example
   * ```ts
   * import { Rehasher } from "./rehash.ts";
   * new Rehasher("cvm-cdb", "scheme", "SHA512-CRYPT");
   * ```
   */
  constructor(
    program: string,
    form: StoreForm,
    scheme: string,
    defaultScheme = "CRYPT",
    warn: (line: string) => void = (line) =>
      Deno.stderr.writeSync(new TextEncoder().encode(line + "\n")),
  ) {
    this.#program = program;
    this.#form = form;
    this.#scheme = scheme;
    this.#defaultScheme = defaultScheme;
    this.#warn = warn;
  }

  /** The canonical target scheme. */
  get scheme(): string {
    return this.#scheme;
  }

  /**
   * Whether a stored value should be written again with the target scheme.
   *
   * @param stored The stored value that matched.
   * @returns True when its scheme differs from the target.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rehasher } from "./rehash.ts";
   * assert.equal(new Rehasher("cvm-cdb", "scheme", "SHA512-CRYPT").needs("{PLAIN}pw"), true);
   * ```
   */
  needs(stored: string): boolean {
    // A crypt store's bare hashes are CRYPT values to the registry.
    const defaultScheme = this.#form === "crypt"
      ? "CRYPT"
      : this.#defaultScheme;
    return !isStoredInScheme(stored, this.#scheme, { defaultScheme });
  }

  /**
   * After a successful login with `password` against `stored`: when the
   * stored scheme differs from the target, hashes the password and hands
   * the new value to `write`. Never throws.
   *
   * @param stored The stored value that matched.
   * @param password The password that matched it.
   * @param write Stores the new value (only where the old one still is).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rehasher } from "./rehash.ts";
   * const rehasher = new Rehasher("cvm-cdb", "scheme", "SHA512-CRYPT");
   * const stored: string[] = [];
   * await rehasher.afterLogin("{PLAIN}pw", new TextEncoder().encode("pw"),
   *   (value) => Promise.resolve(void stored.push(value)));
   * assert.equal(stored.length, 1);
   * assert.match(stored[0], /^\{SHA512-CRYPT\}\$6\$/);
   * ```
   */
  async afterLogin(
    stored: string,
    password: Uint8Array,
    write: RehashWrite,
  ): Promise<void> {
    if (!this.needs(stored)) return;
    let value: string | undefined;
    try {
      value = await hashForStore(this.#form, this.#scheme, password);
      await write(value);
      this.#said = undefined;
    } catch (e) {
      // A driver may quote a bound value: never the new hash in a log.
      const reason = value ? describe(e).split(value).join("***") : describe(e);
      if (reason === this.#said) return;
      this.#said = reason;
      this.#warn(
        `${this.#program}: CVM_REHASH: the new hash was not stored (the login stands): ${reason}`,
      );
    }
  }
}

/** An error in one line: its class and message, which never hold a password. */
function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  return String(error);
}

/**
 * Reads `$CVM_REHASH` for a module whose store has the given form.
 *
 * @param program The program name for its stderr lines.
 * @param env The environment.
 * @param form The store's form (its `…_PWCMP`).
 * @param variable The name of the store's `…_PWCMP`, for the error.
 * @returns The rehasher, or undefined when `$CVM_REHASH` is unset or empty.
 * @throws {CvmError} CONFIG for an unknown scheme, or one the store
 *   cannot hold.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rehasherFromEnv } from "./rehash.ts";
 * const rehasher = rehasherFromEnv("cvm-cdb", { CVM_REHASH: "SHA512-CRYPT" }, "scheme", "CVM_CDB_PWCMP");
 * assert.equal(rehasher?.scheme, "SHA512-CRYPT");
 * ```
 */
export function rehasherFromEnv(
  program: string,
  env: Record<string, string | undefined>,
  form: StoreForm,
  variable: string,
): Rehasher | undefined {
  const name = env.CVM_REHASH;
  if (name === undefined || name === "") return undefined;
  if (form === "plain") {
    throw new CvmError(
      ErrorCode.CONFIG,
      `$CVM_REHASH needs $${variable} set to crypt or scheme`,
    );
  }
  const scheme = storeScheme("$CVM_REHASH", name, form);
  return new Rehasher(
    program,
    form,
    scheme,
    env.CVM_DEFAULT_SCHEME || "CRYPT",
  );
}
