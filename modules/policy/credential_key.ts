/**
 * The key a request's answer is cached and its failures remembered under:
 * an HMAC-SHA-256 of the whole credential set (account, domain, password,
 * secret, challenge, response …, in tag order), without the random tag and
 * the client address, with the program's name and whether it runs in lookup
 * mode, so that no two modules, and no lookup-mode module and a checking one,
 * can share an answer. The HMAC key is random per process unless
 * `$CVM_CACHE_KEY` names one shared by hosts. Neither a password nor an
 * unkeyed hash of one is ever kept.
 *
 * @module
 */

import { createHmac, randomBytes } from "node:crypto";
import type { Tagged } from "../../protocol/mod.ts";

/** The local-use credential that carries the client address. */
export const CLIENT_ADDRESS_TAG = 128;

/** What a key is made for: a module, in a mode. */
export interface KeyScope {
  /** The program's base name, e.g. "cvm-pgsql". */
  program: string;
  /** Whether the module runs in lookup mode (`$CVM_LOOKUP_SECRET` set). */
  lookupMode: boolean;
}

/**
 * Makes credential keys with one HMAC key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CredentialKeys } from "./credential_key.ts";
 * const keys = new CredentialKeys("shared", { program: "cvm-pwfile", lookupMode: false });
 * const enc = new TextEncoder();
 * assert.equal(keys.of(2, [{ type: 1, value: enc.encode("bob") }]).length, 64);
 * ```
 */
export class CredentialKeys {
  readonly #key: Uint8Array;
  readonly #scope: string;

  /**
   * @param secret `$CVM_CACHE_KEY`, or undefined for a random key.
   * @param scope The module and its mode.
   */
  constructor(secret: string | undefined, scope: KeyScope) {
    this.#key = secret === undefined
      ? randomBytes(32)
      : new TextEncoder().encode(secret);
    this.#scope = `${scope.program}\0${scope.lookupMode ? "lookup" : "check"}`;
  }

  /**
   * The key of a credential set.
   *
   * @param version The protocol version of the request.
   * @param credentials The credentials as received.
   * @returns 64 hex digits.
   */
  of(version: number, credentials: readonly Tagged[]): string {
    const hmac = createHmac("sha256", this.#key);
    hmac.update(`cvm-cache\0${this.#scope}\0${version}\0`);
    const sorted = credentials
      .filter((c) => c.type !== CLIENT_ADDRESS_TAG)
      .sort((a, b) => a.type - b.type);
    for (const { type, value } of sorted) {
      // Type and length first: no two sets can run into the same bytes.
      hmac.update(new Uint8Array([type, value.length >> 8, value.length]));
      hmac.update(value);
    }
    return hmac.digest("hex");
  }
}
