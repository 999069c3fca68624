/**
 * cvm-pwfile: accounts from a file in /etc/passwd layout at
 * `$CVM_PWFILE_PATH`, compared by `$CVM_PWFILE_PWCMP` (plain or crypt).
 * Server modes keep an index (a `CachedFile`, re-read when the file
 * changes), so a request costs O(1) however many accounts there are.
 *
 * @module
 */

import { asciiLower, CvmError, ErrorCode } from "../protocol/mod.ts";
import type { Facts } from "../protocol/mod.ts";
import type { Backend, ModuleRequest } from "./runtime/mod.ts";
import {
  checkPassword,
  parsePasswordScheme,
  type PasswordScheme,
} from "./passwords/mod.ts";
import type { BackendContext } from "./runtime/mod.ts";
import {
  CachedFile,
  type FileRead,
  readFileSafely,
  replaceFile,
  withFileLock,
} from "./file_cache/mod.ts";
import { CryptDecoy, firstHash, rehasherFromEnv } from "./passwords/mod.ts";

/** One line of a passwd file. */
export interface PasswdLine {
  /** The account name as written in the file. */
  name: string;
  /** The stored password (plain text or a crypt hash). */
  password: string;
  /** The user id. */
  uid: number;
  /** The group id. */
  gid: number;
  /** The GECOS field; its first comma field is the real name. */
  gecos: string;
  /** The home directory. */
  directory: string;
  /** The login shell. */
  shell: string;
}

/**
 * Parses one passwd-format line; undefined for a comment, a blank or a
 * malformed line (a user or group id that is not a decimal number is
 * malformed, never 0).
 *
 * @param line The line, without its newline.
 * @returns The entry.
 * @example
 * ```ts
 * import { parsePasswdLine } from "./pwfile.ts";
 * parsePasswdLine("bob:pw:1000:100:Bob,,:/home/bob:/bin/sh")?.uid; // 1000
 * ```
 */
export function parsePasswdLine(line: string): PasswdLine | undefined {
  const fields = line.split(":");
  if (fields.length !== 7 || fields[0] === "") return undefined;
  const [name, password, uid, gid, gecos, directory, shell] = fields;
  if (!/^[0-9]{1,10}$/.test(uid) || !/^[0-9]{1,10}$/.test(gid)) {
    return undefined;
  }
  return {
    name,
    password,
    uid: Number(uid),
    gid: Number(gid),
    gecos,
    directory,
    shell,
  };
}

/**
 * Builds an ASCII-lower-cased name → first entry index of a passwd file's text.
 *
 * @param text The file's contents.
 * @returns The index.
 * @example
 * ```ts
 * import { indexPasswd } from "./pwfile.ts";
 * indexPasswd("Bob:pw:1:2::/h:\n").get("bob")?.name; // "Bob"
 * ```
 */
export function indexPasswd(text: string): Map<string, PasswdLine> {
  const index = new Map<string, PasswdLine>();
  for (const line of text.split("\n")) {
    const entry = parsePasswdLine(line);
    if (entry === undefined) continue;
    const key = asciiLower(entry.name);
    if (!index.has(key)) index.set(key, entry);
  }
  return index;
}

/**
 * Finds one account in a passwd file's text by scanning (for command mode,
 * where building an index would cost more than it saves).
 *
 * @param text The file's contents.
 * @param account The account name (ASCII letters match in either case).
 * @returns The first matching entry.
 * @example
 * ```ts
 * import { findPasswd } from "./pwfile.ts";
 * findPasswd("Bob:pw:1:2::/h:\n", "BOB")?.uid; // 1
 * ```
 */
export function findPasswd(
  text: string,
  account: string,
): PasswdLine | undefined {
  const key = asciiLower(account);
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || asciiLower(line.slice(0, colon)) !== key) continue;
    const entry = parsePasswdLine(line);
    if (entry) return entry;
  }
  return undefined;
}

/** The entries of a passwd file's text, in file order. */
function* passwdEntries(text: string): Generator<PasswdLine> {
  for (const line of text.split("\n")) {
    const entry = parsePasswdLine(line);
    if (entry) yield entry;
  }
}

/** The stored passwords of some entries, in order. */
function* storedPasswords(entries: Iterable<PasswdLine>): Generator<string> {
  for (const entry of entries) yield entry.password;
}

/** The file's text; a file that cannot be read is a temporary error (IO). */
function passwdText(read: FileRead): string {
  if (!read.ok) {
    throw new CvmError(
      ErrorCode.IO,
      `cannot read $CVM_PWFILE_PATH: ${(read.error as Error).name}`,
    );
  }
  return new TextDecoder().decode(read.bytes);
}

/** Text as bytes, one char per byte, so a rewrite keeps every byte. */
function byteString(bytes: Uint8Array): string {
  let out = "";
  for (let at = 0; at < bytes.length; at += 8192) {
    out += String.fromCharCode(...bytes.subarray(at, at + 8192));
  }
  return out;
}

/**
 * Replaces the stored password of an account in a passwd file's text: in
 * the line a lookup finds (the first valid one of the name, ASCII letters
 * in either case), and only while it still holds `old`.
 *
 * @param text The file's text.
 * @param account The account name.
 * @param old The stored password that matched.
 * @param value The new stored password (no `:` or line break).
 * @returns The new text, or undefined when the line is gone or changed.
 * @example
 * ```ts
 * import { replacePasswdPassword } from "./pwfile.ts";
 * replacePasswdPassword("Bob:pw:1:2::/h:\n", "bob", "pw", "$6$s$h");
 * // "Bob:$6$s$h:1:2::/h:\n"
 * ```
 */
export function replacePasswdPassword(
  text: string,
  account: string,
  old: string,
  value: string,
): string | undefined {
  const key = asciiLower(account);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const colon = lines[i].indexOf(":");
    if (colon < 0 || asciiLower(lines[i].slice(0, colon)) !== key) continue;
    const entry = parsePasswdLine(lines[i]);
    if (entry === undefined) continue;
    if (entry.password !== old) return undefined;
    const fields = lines[i].split(":");
    fields[1] = value;
    lines[i] = fields.join(":");
    return lines.join("\n");
  }
  return undefined;
}

/**
 * Upgrade on login: writes a new stored password into the file, under its
 * writers' lock (flock on `PATH.lock`), as a new file renamed over the old
 * one (owner and mode kept); every other byte stays as it was. Nothing is
 * written when the account's line no longer holds the password that
 * matched (changed meanwhile, or upgraded by a concurrent login).
 */
function storePassword(
  path: string,
  account: string,
  old: string,
  value: string,
): Promise<boolean> {
  if (/[:\n\r\0]/.test(value)) {
    return Promise.reject(
      new Error("the new value does not fit in a passwd-format line"),
    );
  }
  const utf8 = new TextEncoder();
  const bytes = (text: string) => byteString(utf8.encode(text));
  return withFileLock(path, async () => {
    const text = byteString(Deno.readFileSync(path));
    const next = replacePasswdPassword(
      text,
      bytes(account),
      bytes(old),
      bytes(value),
    );
    if (next === undefined) return false;
    await replaceFile(path, Uint8Array.from(next, (c) => c.charCodeAt(0)));
    return true;
  }, { timeoutMs: 2000 });
}

/**
 * Makes the cvm-pwfile backend from the environment.
 *
 * @param env `CVM_PWFILE_PATH` (required), `CVM_PWFILE_PWCMP`, `CVM_REHASH`.
 * @param context Whether to keep an index (server modes).
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import { createPwfileBackend } from "./pwfile.ts";
 * const backend = createPwfileBackend({ CVM_PWFILE_PATH: "/etc/cvm.passwd" },
 *   { persistent: false });
 * ```
 */
export function createPwfileBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
): Backend<PasswdLine> {
  const path = env.CVM_PWFILE_PATH;
  if (!path) {
    throw new CvmError(ErrorCode.CONFIG, "$CVM_PWFILE_PATH is not set");
  }
  const scheme: PasswordScheme = parsePasswordScheme(
    "CVM_PWFILE_PWCMP",
    env.CVM_PWFILE_PWCMP,
  );
  const rehasher = rehasherFromEnv(
    "cvm-pwfile",
    env,
    scheme,
    "CVM_PWFILE_PWCMP",
  );
  const makeIndex = () =>
    new CachedFile(path, (read) => indexPasswd(passwdText(read)));
  let index = makeIndex();
  // The dummy hash follows the file's own hashes: the first one in it.
  const decoy = new CryptDecoy(() =>
    firstHash(storedPasswords(
      context.persistent
        ? index.get().values()
        : passwdEntries(passwdText(readFileSafely(path))),
    ))
  );
  return {
    lookup(request: ModuleRequest) {
      const entry = context.persistent
        ? index.get().get(asciiLower(request.account))
        : findPasswd(passwdText(readFileSafely(path)), request.account);
      // An empty password field is no account at all, as in the reference:
      // rejected before any credential is looked at, in lookup mode too.
      return Promise.resolve(entry?.password === "" ? undefined : entry);
    },
    async authenticate(account, request) {
      const stored = account.password;
      const matched = await checkPassword(scheme, request, stored, decoy);
      if (matched && rehasher && request.password !== undefined) {
        await rehasher.afterLogin(
          stored,
          request.password,
          (value) => storePassword(path, account.name, stored, value),
        );
      }
      return matched;
    },
    async decoy(request) {
      if (scheme === "crypt") await decoy.reject(request.password);
    },
    results(account): Facts {
      return {
        username: account.name,
        userid: account.uid,
        groupid: account.gid,
        realname: account.gecos.split(",")[0],
        directory: account.directory,
        shell: account.shell,
      };
    },
    reload() {
      index = makeIndex(); // the next request reads the file again
      return Promise.resolve();
    },
  };
}
