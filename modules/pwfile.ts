/**
 * cvm-pwfile: accounts from a file in /etc/passwd layout at
 * `$CVM_PWFILE_PATH`, compared by `$CVM_PWFILE_PWCMP` (plain, crypt, or
 * scheme: Dovecot's passwd-file layout and `{SCHEME}` passwords).
 * Server modes keep a compact index (a `CachedFile`, re-read when the file
 * changes: see `_pwfile_index.ts`), so a request costs O(1) however many
 * accounts there are.
 *
 * @module
 */

import {
  asciiLower,
  CvmError,
  encodeFacts,
  ErrorCode,
  toBytes,
  toExactText,
} from "../protocol/mod.ts";
import type { Facts } from "../protocol/mod.ts";
import type { Backend, ModuleRequest } from "./runtime/mod.ts";
import {
  checkPassword,
  createPasswordDecoy,
  dovecotDefaultsFromEnv,
  dovecotLineParser,
  parsePasswdLine,
  type PasswdLine,
  type PasswdLineParser,
  readPasswordComparison,
  rehasherFromEnv,
} from "./passwords/mod.ts";
import type { BackendContext } from "./runtime/mod.ts";
import {
  CachedFile,
  type FileRead,
  readFileSafely,
  replaceFile,
  withFileLock,
} from "./file_cache/mod.ts";
import {
  findLine,
  type LineCheck,
  PasswdIndex,
  validNameEnd,
} from "./_pwfile_index.ts";

/** The facts of an entry, encoded once (`raw`) and frozen: they are kept. */
function entryFacts(entry: PasswdLine): Facts {
  const facts: Facts = {
    username: entry.name,
    userid: entry.uid,
    groupid: entry.gid,
    realname: entry.gecos.split(",")[0],
    directory: entry.directory,
    shell: entry.shell,
    ...(entry.mailbox === undefined ? {} : { mailbox: entry.mailbox }),
  };
  facts.raw = encodeFacts(facts);
  return Object.freeze(facts);
}

/** An entry with its facts ready to send (none when they cannot be given). */
export interface PwfileAccount extends PasswdLine {
  /** The facts, encoded once. */
  facts?: Facts;
}

/** A parser whose entries carry their encoded facts. */
function withFacts(parse: PasswdLineParser): (line: string) => PwfileAccount {
  return (line) => {
    const entry = parse(line)!;
    return entry.problem === undefined
      ? { ...entry, facts: entryFacts(entry) }
      : entry;
  };
}

/**
 * Which lines are entries: /etc/passwd's layout is checked on the bytes;
 * another layout (Dovecot's) by parsing the line.
 */
function lineCheck(parse: PasswdLineParser): LineCheck {
  if (parse === parsePasswdLine) return validNameEnd;
  return (bytes, start, end) => {
    const colon = bytes.indexOf(0x3a, start);
    if (colon <= start || colon >= end) return -1;
    return parse(toExactText(bytes.subarray(start, end))) ? colon : -1;
  };
}

/**
 * Builds the index of a passwd file: each name's first valid line, found
 * by its bytes with ASCII letters in either case, parsed when asked for.
 *
 * @param bytes The file's contents.
 * @param parse The line layout (default: /etc/passwd's).
 * @returns The index.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPasswd } from "./pwfile.ts";
 * const index = indexPasswd(new TextEncoder().encode("Bob:pw:1:2::/h:\n"));
 * assert.equal(index.find(new TextEncoder().encode("bob"))?.name, "Bob");
 * assert.equal(index.find(new TextEncoder().encode("carol")), undefined);
 * ```
 */
export function indexPasswd(
  bytes: Uint8Array,
  parse: PasswdLineParser = parsePasswdLine,
): PasswdIndex<PwfileAccount> {
  return new PasswdIndex(bytes, withFacts(parse), lineCheck(parse));
}

/**
 * Finds one account in a passwd file by scanning (for command mode, where
 * building an index would cost more than it saves).
 *
 * @param bytes The file's contents.
 * @param account The account name (ASCII letters match in either case).
 * @param parse The line layout (default: /etc/passwd's).
 * @returns The first matching entry.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findPasswd } from "./pwfile.ts";
 * const file = new TextEncoder().encode("Bob:pw:1:2::/h:\n");
 * assert.equal(findPasswd(file, "BOB")?.uid, 1);
 * assert.equal(findPasswd(file, "carol"), undefined);
 * ```
 */
export function findPasswd(
  bytes: Uint8Array,
  account: string,
  parse: PasswdLineParser = parsePasswdLine,
): PwfileAccount | undefined {
  const line = findLine(bytes, toBytes(account), lineCheck(parse));
  return line === undefined ? undefined : withFacts(parse)(toExactText(line));
}

/** The entries of a passwd file, in file order (first of each name). */
function* passwdEntries(
  bytes: Uint8Array,
  parse: PasswdLineParser,
): Generator<PwfileAccount> {
  yield* indexPasswd(bytes, parse).entries();
}

/** The stored passwords of some entries, in order. */
function* storedPasswords(entries: Iterable<PasswdLine>): Generator<string> {
  for (const entry of entries) yield entry.password;
}

/** The file's bytes; a file that cannot be read is a temporary error (IO). */
function passwdBytes(read: FileRead): Uint8Array {
  if (!read.ok) {
    throw new CvmError(
      ErrorCode.IO,
      `cannot read $CVM_PWFILE_PATH: ${(read.error as Error).name}`,
    );
  }
  return read.bytes;
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
 * @param parse How the lookup reads a line (scheme mode: Dovecot's layout).
 * @returns The new text, or undefined when the line is gone or changed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replacePasswdPassword } from "./pwfile.ts";
 * assert.equal(
 *   replacePasswdPassword("Bob:pw:1:2::/h:\n", "bob", "pw", "$6$s$h"),
 *   "Bob:$6$s$h:1:2::/h:\n",
 * );
 * // The line no longer holds the password that matched: nothing to write.
 * assert.equal(
 *   replacePasswdPassword("Bob:new:1:2::/h:\n", "bob", "pw", "$6$s$h"),
 *   undefined,
 * );
 * ```
 */
export function replacePasswdPassword(
  text: string,
  account: string,
  old: string,
  value: string,
  parse: PasswdLineParser = parsePasswdLine,
): string | undefined {
  const key = asciiLower(account);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const colon = lines[i].indexOf(":");
    if (colon < 0 || asciiLower(lines[i].slice(0, colon)) !== key) continue;
    const entry = parse(lines[i]);
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
  parse: PasswdLineParser,
): Promise<boolean> {
  if (/[:\n\r\0]/.test(value)) {
    return Promise.reject(
      new Error("the new value does not fit in a passwd-format line"),
    );
  }
  // The names and values are exact text (`toExactText`): back to their bytes.
  const bytes = (text: string) => byteString(toBytes(text));
  return withFileLock(path, async () => {
    const text = byteString(Deno.readFileSync(path));
    const next = replacePasswdPassword(
      text,
      bytes(account),
      bytes(old),
      bytes(value),
      parse,
    );
    if (next === undefined) return false;
    await replaceFile(path, Uint8Array.from(next, (c) => c.charCodeAt(0)));
    return true;
  }, { timeoutMs: 2000 });
}

/**
 * Makes the cvm-pwfile backend from the environment.
 *
 * @param env `CVM_PWFILE_PATH` (required), `CVM_PWFILE_PWCMP`, `CVM_REHASH`;
 *   in scheme mode `CVM_DEFAULT_SCHEME`, `CVM_PWFILE_UID` and `CVM_PWFILE_GID`.
 * @param context Whether to keep an index (server modes).
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPwfileBackend } from "./pwfile.ts";
 * import { toModuleRequest } from "./runtime/mod.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "bob:pw:1000:100:Bob,,:/home/bob:/bin/sh\n");
 * const backend = createPwfileBackend({ CVM_PWFILE_PATH: path },
 *   { persistent: false });
 * const request = toModuleRequest({ version: 2, random: new Uint8Array(0),
 *   credentials: [
 *     { type: 1, value: new TextEncoder().encode("bob") }, // the account
 *     { type: 3, value: new TextEncoder().encode("pw") }, // the password
 *   ] });
 * const account = await backend.lookup(request);
 * assert.ok(account !== undefined);
 * assert.equal(await backend.authenticate(account, request), true);
 * assert.equal(backend.results(account, request).realname, "Bob");
 * await Deno.remove(path);
 * ```
 */
export function createPwfileBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
): Backend<PwfileAccount> {
  const path = env.CVM_PWFILE_PATH;
  if (!path) {
    throw new CvmError(ErrorCode.CONFIG, "$CVM_PWFILE_PATH is not set");
  }
  const comparison = readPasswordComparison("CVM_PWFILE_PWCMP", env);
  const parse: PasswdLineParser = comparison.mode === "scheme"
    ? dovecotLineParser(dovecotDefaultsFromEnv(env))
    : parsePasswdLine;
  const rehasher = rehasherFromEnv(
    "cvm-pwfile",
    env,
    comparison.mode,
    "CVM_PWFILE_PWCMP",
  );
  const makeIndex = () =>
    new CachedFile(path, (read) => indexPasswd(passwdBytes(read), parse));
  let index = makeIndex();
  // The dummy hash follows the file's own hashes: the first one in it (in
  // scheme mode, one of the scheme most used).
  const decoy = createPasswordDecoy(comparison, () =>
    storedPasswords(
      context.persistent
        ? index.get().entries()
        : passwdEntries(passwdBytes(readFileSafely(path)), parse),
    ));
  return {
    lookup(request: ModuleRequest) {
      const entry = context.persistent
        ? index.get().find(toBytes(request.account))
        : findPasswd(passwdBytes(readFileSafely(path)), request.account, parse);
      // An empty password field is no account at all, as in the reference:
      // rejected before any credential is looked at, in lookup mode too.
      return Promise.resolve(entry?.password === "" ? undefined : entry);
    },
    async authenticate(account, request) {
      const stored = account.password;
      const matched = await checkPassword(comparison, request, stored, decoy);
      // A refused account (Dovecot's nologin, allow_nets …) never logs in,
      // but costs its check all the same.
      if (!matched || account.refused !== undefined) return false;
      if (rehasher && request.password !== undefined) {
        await rehasher.afterLogin(
          stored,
          request.password,
          (value) => storePassword(path, account.name, stored, value, parse),
        );
      }
      return true;
    },
    async decoy(request) {
      await decoy?.reject(request.password);
    },
    results(account): Facts {
      if (account.facts === undefined) {
        throw new CvmError(ErrorCode.CONFIG, account.problem ?? "no facts");
      }
      return account.facts;
    },
    reload() {
      index = makeIndex(); // the next request reads the file again
      return Promise.resolve();
    },
  };
}
