/**
 * The account store cvm-cdb reads: a cdb file whose key is the account
 * name folded to ASCII lower case and whose value is the account's
 * passwd-format line. Changes are made under the file's writers' lock
 * (flock on `FILE.lock`): read the current file, change it, write a new
 * file beside it and rename it over the old, so readers never see a
 * partial file and two writers never lose each other's change.
 *
 * @module
 */

import { asciiLower, toBytes, toExactText } from "../../protocol/mod.ts";
import { Cdb, writeCdbAtomic } from "../cdb/mod.ts";
import { withFileLock } from "../file_cache/mod.ts";
import { parseAccountLine } from "./account_line.ts";

/**
 * The cdb key of an account name: the name folded to ASCII lower case (its
 * bytes are the key: a name that is not UTF-8 is exact text, `toExactText`).
 *
 * @param name The account name (`account@domain` in a store of domains).
 * @returns The key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accountKey } from "./account_store.ts";
 * assert.equal(accountKey("Bob@Example.COM"), "bob@example.com");
 * ```
 */
export function accountKey(name: string): string {
  return asciiLower(name);
}

/** A byte string (one char per byte) for keying a Map by bytes. */
function byteKey(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/**
 * The accounts of a store held in memory, in file order, one record per
 * key (the first of a key's records: the one a lookup finds).
 */
export class AccountRecords {
  readonly #records = new Map<string, [Uint8Array, Uint8Array]>();

  /**
   * Reads the records of a cdb file's bytes.
   *
   * @param bytes The cdb file.
   * @returns The records.
   * @throws {Error} "corrupt cdb: ..." for a malformed file.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { makeCdb } from "../cdb/mod.ts";
   * import { AccountRecords } from "./account_store.ts";
   * assert.equal(AccountRecords.fromCdb(makeCdb([["bob", "bob:pw:1:1::/:"]])).size, 1);
   * ```
   */
  static fromCdb(bytes: Uint8Array): AccountRecords {
    const records = new AccountRecords();
    for (const [key, value] of Cdb.fromBytes(bytes).entries()) {
      const k = byteKey(key);
      if (!records.#records.has(k)) records.#records.set(k, [key, value]);
    }
    return records;
  }

  /** How many accounts there are. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * The line stored for an account name.
   *
   * @param name The account name (any case).
   * @returns The line, or undefined.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AccountRecords } from "./account_store.ts";
   * const records = new AccountRecords();
   * records.set("Bob", "Bob:pw:1:1::/:");
   * assert.equal(records.get("BOB"), "Bob:pw:1:1::/:");
   * ```
   */
  get(name: string): string | undefined {
    const found = this.#records.get(byteKey(toBytes(accountKey(name))));
    return found && toExactText(found[1]);
  }

  /**
   * Stores a line for an account name: in place when the name is there,
   * else at the end.
   *
   * @param name The account name (its key is folded to lower case).
   * @param line The passwd-format line.
   * @example
   * ```ts
   * import { AccountRecords } from "./account_store.ts";
   * new AccountRecords().set("bob", "bob:pw:1:1::/:");
   * ```
   */
  set(name: string, line: string): void {
    const key = toBytes(accountKey(name));
    this.#records.set(byteKey(key), [key, toBytes(line)]);
  }

  /**
   * Removes an account.
   *
   * @param name The account name (any case).
   * @returns Whether it was there.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AccountRecords } from "./account_store.ts";
   * assert.equal(new AccountRecords().delete("bob"), false);
   * ```
   */
  delete(name: string): boolean {
    return this.#records.delete(byteKey(toBytes(accountKey(name))));
  }

  /**
   * The account names, in file order: each line's name field (the key,
   * for a value that is not an account line).
   *
   * @returns The names.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AccountRecords } from "./account_store.ts";
   * const records = new AccountRecords();
   * records.set("Bob", "Bob:pw:1:1::/:");
   * assert.deepEqual(records.names(), ["Bob"]);
   * ```
   */
  names(): string[] {
    return [...this.#records.values()].map(([key, value]) =>
      parseAccountLine(toExactText(value))?.name ?? toExactText(key)
    );
  }

  /**
   * The `[key, value]` records, in order, for the cdb writer.
   *
   * @returns The records.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AccountRecords } from "./account_store.ts";
   * assert.equal([...new AccountRecords().entries()].length, 0);
   * ```
   */
  entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.#records.values();
  }
}

/**
 * Reads a store as it is now; a store that does not exist yet is empty.
 *
 * @param path The cdb file.
 * @returns Its accounts.
 * @throws {Error} file system errors other than a missing file; "corrupt
 *   cdb: ..." for a malformed file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAccountStore } from "./account_store.ts";
 * assert.equal(readAccountStore("/nonexistent/users.cdb").size, 0);
 * ```
 */
export function readAccountStore(path: string): AccountRecords {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return new AccountRecords();
    throw e;
  }
  return AccountRecords.fromCdb(bytes);
}

/** Options for {@link updateAccountStore}. */
export interface UpdateOptions {
  /** How long to wait for the writers' lock, in milliseconds (default 30 s). */
  lockTimeoutMs?: number;
}

/**
 * Changes a store under its writers' lock: reads the current file, lets
 * `change` edit the accounts, and when it returns true writes them to a
 * new file renamed over the old one. A new store is made mode 0600 (it
 * holds password hashes); an existing one keeps its owner, group and mode.
 *
 * @param path The cdb file.
 * @param change Edits the accounts; returns whether anything changed.
 * @param options How long to wait for the lock.
 * @returns What `change` returned.
 * @throws {FileLockTimeout} when another writer holds the lock too long;
 *   file system errors; whatever `change` throws (nothing is written).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { updateAccountStore } from "./account_store.ts";
 * import { Cdb } from "../cdb/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * await updateAccountStore(`${dir}/users.cdb`, (accounts) => {
 *   accounts.set("bob", "bob:{PLAIN}pw:1000:100::/home/bob:");
 *   return true;
 * });
 * assert.equal((await Cdb.open(`${dir}/users.cdb`)).has("bob"), true);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function updateAccountStore(
  path: string,
  change: (accounts: AccountRecords) => boolean,
  options: UpdateOptions = {},
): Promise<boolean> {
  return withFileLock(path, async () => {
    let exists = true;
    try {
      Deno.statSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      exists = false;
    }
    const accounts = readAccountStore(path);
    if (!change(accounts)) return false;
    await writeCdbAtomic(
      path,
      accounts.entries(),
      exists ? {} : {
        mode: 0o600,
      },
    );
    return true;
  }, { timeoutMs: options.lockTimeoutMs ?? 30_000 });
}
