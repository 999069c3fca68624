/**
 * Allow and deny tables (`$CVM_ACCESS`), as the reference's TODO describes
 * them: an account is denied when `DIR/deny/NAME` exists, and also when
 * `DIR/allow/` exists and `DIR/allow/NAME` does not. NAME is the account
 * folded to ASCII lower case, tried as `account@domain` (when a domain was
 * sent) and as `account`. A name that is empty, not UTF-8, longer than 255
 * bytes, or holds `/` or a NUL, or starts with `.`, is never looked up as
 * a path: it is in neither table.
 *
 * @module
 */

import { asciiLower, CvmError, ErrorCode } from "../../protocol/mod.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The file name an account is looked up under, or undefined when it must
 * never be looked up as a path.
 *
 * @param name The name's bytes.
 * @returns The folded name, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accessFileName } from "./access.ts";
 * const enc = new TextEncoder();
 * assert.equal(accessFileName(enc.encode("Bob")), "bob");
 * assert.equal(accessFileName(enc.encode("../etc/passwd")), undefined);
 * assert.equal(accessFileName(enc.encode("\u212Aelvin")), "\u212Aelvin"); // ASCII folding only
 * ```
 */
export function accessFileName(name: Uint8Array): string | undefined {
  if (name.length === 0 || name.length > 255) return undefined;
  let text: string;
  try {
    text = strictUtf8.decode(name);
  } catch {
    return undefined;
  }
  if (text.includes("/") || text.includes("\0") || text.startsWith(".")) {
    return undefined;
  }
  return asciiLower(text);
}

async function present(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    // Unreadable tables must not let a denied account in.
    throw new CvmError(ErrorCode.IO, `access table: ${(e as Error).message}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new CvmError(ErrorCode.IO, `access table: ${(e as Error).message}`);
  }
}

/**
 * The allow and deny tables under one directory, read afresh at each
 * request (a file made or removed counts at once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AccessTables } from "./access.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/deny`);
 * Deno.writeTextFileSync(`${dir}/deny/mallory`, "");
 * const tables = new AccessTables(dir);
 * assert.equal(await tables.denies(new TextEncoder().encode("Mallory"), undefined), true);
 * ```
 */
export class AccessTables {
  readonly #dir: string;

  /**
   * @param dir `$CVM_ACCESS`.
   */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Whether the tables deny an account.
   *
   * @param account The account's bytes.
   * @param domain The domain's bytes, when one was sent.
   * @returns True when denied.
   * @throws {CvmError} IO when a table cannot be read.
   */
  async denies(
    account: Uint8Array,
    domain: Uint8Array | undefined,
  ): Promise<boolean> {
    const names: string[] = [];
    if (domain !== undefined) {
      const full = new Uint8Array(account.length + 1 + domain.length);
      full.set(account);
      full[account.length] = 0x40; // "@"
      full.set(domain, account.length + 1);
      const name = accessFileName(full);
      if (name !== undefined) names.push(name);
    }
    const plain = accessFileName(account);
    if (plain !== undefined) names.push(plain);
    for (const name of names) {
      if (await present(`${this.#dir}/deny/${name}`)) return true;
    }
    if (!(await isDirectory(`${this.#dir}/allow`))) return false;
    for (const name of names) {
      if (await present(`${this.#dir}/allow/${name}`)) return false;
    }
    return true;
  }
}
