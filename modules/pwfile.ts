/**
 * cvm-pwfile: accounts from a file in /etc/passwd layout at
 * `$CVM_PWFILE_PATH`, compared by `$CVM_PWFILE_PWCMP` (plain or crypt).
 * Server modes keep a compact index (a `CachedFile`, re-read when the file
 * changes: see `_pwfile_index.ts`), so a request costs O(1) however many
 * accounts there are.
 *
 * @module
 */

import { CvmError, encodeFacts, ErrorCode, toBytes } from "../protocol/mod.ts";
import type { Facts } from "../protocol/mod.ts";
import type { Backend, ModuleRequest } from "./runtime/mod.ts";
import {
  checkPassword,
  parsePasswordScheme,
  type PasswordScheme,
} from "./passwords/mod.ts";
import type { BackendContext } from "./runtime/mod.ts";
import { CachedFile, type FileRead, readFileSafely } from "./file_cache/mod.ts";
import { CryptDecoy, firstHash } from "./passwords/mod.ts";
import { findLine, PasswdIndex } from "./_pwfile_index.ts";

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

/** The facts of an entry, encoded once (`raw`) and frozen: they are kept. */
function entryFacts(entry: PasswdLine): Facts {
  const facts: Facts = {
    username: entry.name,
    userid: entry.uid,
    groupid: entry.gid,
    realname: entry.gecos.split(",")[0],
    directory: entry.directory,
    shell: entry.shell,
  };
  facts.raw = encodeFacts(facts);
  return Object.freeze(facts);
}

/** An entry with its facts ready to send. */
interface PwfileAccount extends PasswdLine {
  /** The facts, encoded once. */
  facts: Facts;
}

/** Parses a line the index found valid, with its facts. */
function parseIndexed(line: string): PwfileAccount {
  const entry = parsePasswdLine(line)!;
  return { ...entry, facts: entryFacts(entry) };
}

/**
 * Builds the index of a passwd file: each name's first valid line, found
 * by its bytes with ASCII letters in either case, parsed when asked for.
 *
 * @param bytes The file's contents.
 * @returns The index.
 * @example
 * ```ts
 * import { indexPasswd } from "./pwfile.ts";
 * const index = indexPasswd(new TextEncoder().encode("Bob:pw:1:2::/h:\n"));
 * index.find(new TextEncoder().encode("bob"))?.name; // "Bob"
 * ```
 */
export function indexPasswd(bytes: Uint8Array): PasswdIndex<PwfileAccount> {
  return new PasswdIndex(bytes, parseIndexed);
}

/**
 * Finds one account in a passwd file by scanning (for command mode, where
 * building an index would cost more than it saves).
 *
 * @param bytes The file's contents.
 * @param account The account name (ASCII letters match in either case).
 * @returns The first matching entry.
 * @example
 * ```ts
 * import { findPasswd } from "./pwfile.ts";
 * findPasswd(new TextEncoder().encode("Bob:pw:1:2::/h:\n"), "BOB")?.uid; // 1
 * ```
 */
export function findPasswd(
  bytes: Uint8Array,
  account: string,
): PwfileAccount | undefined {
  const line = findLine(bytes, toBytes(account));
  return line === undefined
    ? undefined
    : parseIndexed(new TextDecoder("utf-8", { ignoreBOM: true }).decode(line));
}

/** The entries of a passwd file, in file order (first of each name). */
function* passwdEntries(bytes: Uint8Array): Generator<PwfileAccount> {
  yield* indexPasswd(bytes).entries();
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

/**
 * Makes the cvm-pwfile backend from the environment.
 *
 * @param env `CVM_PWFILE_PATH` (required), `CVM_PWFILE_PWCMP`.
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
): Backend<PwfileAccount> {
  const path = env.CVM_PWFILE_PATH;
  if (!path) {
    throw new CvmError(ErrorCode.CONFIG, "$CVM_PWFILE_PATH is not set");
  }
  const scheme: PasswordScheme = parsePasswordScheme(
    "CVM_PWFILE_PWCMP",
    env.CVM_PWFILE_PWCMP,
  );
  const makeIndex = () =>
    new CachedFile(path, (read) => indexPasswd(passwdBytes(read)));
  let index = makeIndex();
  // The dummy hash follows the file's own hashes: the first one in it.
  const decoy = new CryptDecoy(() =>
    firstHash(storedPasswords(
      context.persistent
        ? index.get().entries()
        : passwdEntries(passwdBytes(readFileSafely(path))),
    ))
  );
  return {
    lookup(request: ModuleRequest) {
      const entry = context.persistent
        ? index.get().find(toBytes(request.account))
        : findPasswd(passwdBytes(readFileSafely(path)), request.account);
      // An empty password field is no account at all, as in the reference:
      // rejected before any credential is looked at, in lookup mode too.
      return Promise.resolve(entry?.password === "" ? undefined : entry);
    },
    authenticate(account, request) {
      return checkPassword(scheme, request, account.password, decoy);
    },
    async decoy(request) {
      if (scheme === "crypt") await decoy.reject(request.password);
    },
    results(account): Facts {
      return account.facts;
    },
    reload() {
      index = makeIndex(); // the next request reads the file again
      return Promise.resolve();
    },
  };
}
