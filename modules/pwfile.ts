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
  mailboxOfLocation,
  parseDovecotPasswdLine,
  readPasswordComparison,
} from "./passwords/mod.ts";
import type { BackendContext } from "./runtime/mod.ts";
import {
  CachedFile,
  type FileRead,
  readFileSafely,
  replaceFile,
  withFileLock,
} from "./file_cache/mod.ts";
import { rehasherFromEnv } from "./passwords/mod.ts";
import { getgrnam, getpwnam } from "../sys/mod.ts";
import {
  findLine,
  type LineCheck,
  PasswdIndex,
  validNameEnd,
} from "./_pwfile_index.ts";

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
  /** The mailbox fact (Dovecot layout: from `userdb_mail`). */
  mailbox?: string;
  /** Why a login is refused whatever the password (Dovecot layout). */
  refused?: string;
  /** Why the facts cannot be given (said after the password check). */
  problem?: string;
}

/** Parses a line of the file into an entry, or undefined to skip it. */
export type PasswdLineParser = (line: string) => PasswdLine | undefined;

/** What fills the gaps of a Dovecot passwd-file line. */
export interface DovecotDefaults {
  /** `$CVM_PWFILE_UID`: the uid of a line whose uid field is empty. */
  uid?: number;
  /** `$CVM_PWFILE_GID`: the gid of a line whose gid field is empty. */
  gid?: number;
  /** The variables named when a default is missing (cvm-pwfile's by default). */
  variables?: { uid: string; gid: string };
}

/**
 * Extra fields that make Dovecot refuse a login, or that it checks
 * against the client's address, which cvm is never told: such an account
 * is refused.
 */
const REFUSING_FIELDS = [
  "nologin",
  "noauthenticate",
  "allow_nets",
  "allow_real_nets",
] as const;

/** A user or group id field: decimal, or a name looked up on the system. */
function resolveId(
  field: string,
  lookup: (name: string) => number | undefined,
): number | undefined {
  if (/^[0-9]{1,10}$/.test(field)) {
    const id = Number(field);
    return id <= 0xffffffff ? id : undefined;
  }
  return /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(field)
    ? lookup(field)
    : undefined;
}

/**
 * Makes the parser of Dovecot's passwd-file layout (`CVM_PWFILE_PWCMP=scheme`):
 * `user:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields`, `#` comments
 * and blank lines skipped, an empty uid or gid the default (a line that
 * needs one that is not set answers CONFIG after its password check),
 * `userdb_uid`, `userdb_gid`, `userdb_home` and `userdb_mail` extra fields
 * (the last gives the mailbox fact), and `nologin`, `noauthenticate`,
 * `allow_nets` or `allow_real_nets` refusing the login. A uid or gid that
 * is neither a number nor a known name makes the line malformed (skipped).
 *
 * @param defaults The uid and gid of lines that leave them out.
 * @returns The parser.
 * @example
 * ```ts
 * import { dovecotLineParser } from "./pwfile.ts";
 * const parse = dovecotLineParser({ uid: 5000, gid: 5000 });
 * parse("bob:{PLAIN}pw:::Bob:/home/bob::userdb_mail=maildir:~/Maildir")?.mailbox;
 * // "/home/bob/Maildir"
 * ```
 */
export function dovecotLineParser(defaults: DovecotDefaults): PasswdLineParser {
  const users = new Map<string, number | undefined>();
  const groups = new Map<string, number | undefined>();
  const user = (name: string) => {
    if (!users.has(name)) users.set(name, getpwnam(name)?.uid);
    return users.get(name);
  };
  const group = (name: string) => {
    if (!groups.has(name)) groups.set(name, getgrnam(name)?.gid);
    return groups.get(name);
  };
  return (line) => {
    const entry = parseDovecotPasswdLine(line);
    if (entry === undefined || entry.name === "") return undefined;
    const uidField = entry.extra.get("userdb_uid") ?? entry.uid;
    const gidField = entry.extra.get("userdb_gid") ?? entry.gid;
    const uid = uidField === "" ? defaults.uid : resolveId(uidField, user);
    const gid = gidField === "" ? defaults.gid : resolveId(gidField, group);
    if (
      (uidField !== "" && uid === undefined) ||
      (gidField !== "" && gid === undefined)
    ) {
      return undefined;
    }
    const directory = entry.home || (entry.extra.get("userdb_home") ?? "");
    const mail = entry.extra.get("userdb_mail");
    const refusing = REFUSING_FIELDS.find((key) => entry.extra.has(key));
    const missing = uid === undefined
      ? `$${defaults.variables?.uid ?? "CVM_PWFILE_UID"}`
      : gid === undefined
      ? `$${defaults.variables?.gid ?? "CVM_PWFILE_GID"}`
      : undefined;
    return {
      name: entry.name,
      password: entry.password,
      uid: uid ?? 0,
      gid: gid ?? 0,
      gecos: entry.gecos,
      directory,
      shell: entry.shell,
      ...(mail === undefined ? {} : {
        mailbox: mailboxOfLocation(mail, entry.name, directory),
      }),
      ...(refusing ? { refused: refusing } : {}),
      ...(missing
        ? { problem: `a line leaves out its ids and ${missing} is not set` }
        : {}),
    };
  };
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
 * import { indexPasswd } from "./pwfile.ts";
 * const index = indexPasswd(new TextEncoder().encode("Bob:pw:1:2::/h:\n"));
 * index.find(new TextEncoder().encode("bob"))?.name; // "Bob"
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
 * import { findPasswd } from "./pwfile.ts";
 * findPasswd(new TextEncoder().encode("Bob:pw:1:2::/h:\n"), "BOB")?.uid; // 1
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

/** Reads `$CVM_PWFILE_UID`/`$CVM_PWFILE_GID`: unset, or a decimal id. */
function defaultId(
  env: Record<string, string | undefined>,
  name: string,
): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw new CvmError(ErrorCode.CONFIG, `$${name} is not a decimal id`);
  }
  return Number(text);
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
  const comparison = readPasswordComparison("CVM_PWFILE_PWCMP", env);
  const parse: PasswdLineParser = comparison.mode === "scheme"
    ? dovecotLineParser({
      uid: defaultId(env, "CVM_PWFILE_UID"),
      gid: defaultId(env, "CVM_PWFILE_GID"),
    })
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
