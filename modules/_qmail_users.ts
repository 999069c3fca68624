/**
 * qmail's user lookup for a local part, as qmail-lspawn and qmail-getpw do
 * it: `users/cdb` (exact `=` entries, then `+` wildcard prefixes), else the
 * system accounts with the longest `user-ext` split, else the `alias` user.
 *
 * @module
 */

import { asciiLower, CvmError, ErrorCode } from "../protocol/mod.ts";
import { getpwnam } from "../sys/passwd.ts";
import { CachedFile } from "./cached_file.ts";
import { Cdb } from "./cdb.ts";

/** Where a local part is delivered: the user's account plus the extension. */
export interface QmailUser {
  /** The account name (the user field of users/cdb, or pw_name). */
  user: string;
  /** The user id as decimal text (users/cdb values may exceed 32 bits). */
  uid: string;
  /** The group id as decimal text. */
  gid: string;
  /** The home directory, as written. */
  home: string;
  /** "-" when an extension follows the user name, else "". */
  dash: string;
  /** The extension (what follows the dash). */
  ext: string;
  /**
   * What of the local part the match did not use: nothing for an exact
   * users/cdb entry, the part after the prefix for a wildcard one, the
   * extension for a system account, the whole local part for the catch-all
   * (vmailmgr's virtual user name).
   */
  rest: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ULONG_MAX = (1n << 64n) - 1n;

/**
 * Reads an unsigned number as C's `strtoul(text, &end, 10)` followed by a
 * check that `*end` is the terminating NUL: leading white space and one
 * sign are allowed, a negative number wraps, an overflow saturates, and
 * the empty text is 0.
 *
 * @param text The field.
 * @returns The value as decimal text, or undefined when not a number.
 * @example
 * ```ts
 * import { parseUnsignedLong } from "./_qmail_users.ts";
 * parseUnsignedLong(" 42"); // "42"
 * parseUnsignedLong("-1"); // "18446744073709551615"
 * parseUnsignedLong("4x"); // undefined
 * ```
 */
export function parseUnsignedLong(text: string): string | undefined {
  if (text === "") return "0";
  let i = 0;
  while (i < text.length && " \t\n\v\f\r".includes(text[i])) i++;
  let negative = false;
  if (text[i] === "+" || text[i] === "-") {
    negative = text[i] === "-";
    i++;
  }
  const digits = text.slice(i);
  if (!/^[0-9]+$/.test(digits)) return undefined;
  let value = BigInt(digits);
  if (value > ULONG_MAX) value = ULONG_MAX;
  else if (negative && value !== 0n) value = ULONG_MAX + 1n - value;
  return value.toString();
}

/**
 * Splits a users/cdb record (with the wildcard remainder already appended)
 * into its six NUL-terminated fields: user, uid, gid, home, dash, ext.
 * A final NUL is implied, as qmail-lspawn adds one.
 *
 * @param data The record's data.
 * @returns The user, or undefined when the record is malformed.
 * @example
 * ```ts
 * import { parseUsersRecord } from "./_qmail_users.ts";
 * const enc = new TextEncoder();
 * parseUsersRecord(enc.encode("bob\x001000\x00100\x00/home/bob\x00-\x00x\x00"))?.ext; // "x"
 * ```
 */
export function parseUsersRecord(data: Uint8Array): QmailUser | undefined {
  // With the implied final NUL, "a\0b" holds the fields a and b, and
  // "a\0b\0" holds a, b and an empty third one.
  const fields = decoder.decode(data).split("\0");
  if (fields.length < 6) return undefined;
  const uid = parseUnsignedLong(fields[1]);
  const gid = parseUnsignedLong(fields[2]);
  if (uid === undefined || gid === undefined) return undefined;
  return {
    user: fields[0],
    uid,
    gid,
    home: fields[3],
    dash: fields[4],
    ext: fields[5],
    rest: "",
  };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Looks a lower-cased local part up in a users/cdb as the reference does:
 * the exact key `!local\0`, then the wildcard keys `!prefix` for each
 * prefix of the local part ending in a dash, longest first, and finally
 * `!` itself. A wildcard match gets the rest of the local part appended to
 * its extension. (qmail-lspawn takes the wildcard characters from the
 * record under the empty key; the reference always uses the dash.)
 *
 * @param cdb The users database.
 * @param local The lower-cased local part.
 * @returns The user, undefined when absent.
 * @throws {CvmError} IO for a malformed record.
 * @example
 * ```ts
 * import { lookupUsersCdb } from "./_qmail_users.ts";
 * // lookupUsersCdb(Cdb.fromBytes(bytes), "bob-ext");
 * ```
 */
export function lookupUsersCdb(
  cdb: Cdb,
  local: string,
): QmailUser | undefined {
  const key = encoder.encode(`!${local}`);
  const parse = (data: Uint8Array) => {
    const user = parseUsersRecord(data);
    if (user === undefined) {
      throw new CvmError(ErrorCode.IO, "malformed users/cdb record");
    }
    return user;
  };
  const exact = cdb.get(concatBytes(key, new Uint8Array([0])));
  if (exact !== undefined) return parse(exact);
  for (let i = key.length; i >= 1; i--) {
    if (i > 1 && key[i - 1] !== 0x2d) continue; // '-'
    const data = cdb.get(key.subarray(0, i));
    if (data === undefined) continue;
    // The key covered "!" plus i - 1 bytes of the local part.
    const rest = key.subarray(i);
    return { ...parse(concatBytes(data, rest)), rest: decoder.decode(rest) };
  }
  return undefined;
}

/**
 * Looks a local part up among the system accounts as qmail-getpw does:
 * the whole local part, then each prefix ending before a dash (longest
 * first); the rest after that dash is the extension.
 *
 * @param local The lower-cased local part.
 * @returns The user, or undefined when no prefix is an account.
 * @throws {CvmError} IO when the account lookup itself fails.
 * @example
 * ```ts
 * import { lookupSystemUser } from "./_qmail_users.ts";
 * lookupSystemUser("root-anything")?.ext; // "anything"
 * ```
 */
export function lookupSystemUser(local: string): QmailUser | undefined {
  for (let s = local.length; s >= 0; s--) {
    if (s < local.length && local[s] !== "-") continue;
    const pw = getpw(local.slice(0, s));
    if (pw === undefined) continue;
    const extended = s < local.length;
    return {
      user: pw.name,
      uid: String(pw.uid),
      gid: String(pw.gid),
      home: pw.dir,
      dash: extended ? "-" : "",
      ext: extended ? local.slice(s + 1) : "",
      rest: extended ? local.slice(s + 1) : "",
    };
  }
  return undefined;
}

function getpw(name: string) {
  try {
    return getpwnam(name);
  } catch (e) {
    throw new CvmError(
      ErrorCode.IO,
      `account lookup failed: ${e instanceof Error ? e.message : e}`,
    );
  }
}

/**
 * The users database of a qmail root: `users/cdb` when it can be opened
 * (re-read when it changes), else the system accounts; the `alias` user
 * (or another) catches what neither knows.
 *
 * @example
 * ```ts
 * import { QmailUsers } from "./_qmail_users.ts";
 * new QmailUsers("/var/qmail").lookup("Bob-Ext");
 * ```
 */
export class QmailUsers {
  readonly #cdb: CachedFile<Cdb | undefined>;

  /**
   * @param root The qmail root.
   */
  constructor(root: string) {
    this.#cdb = new CachedFile(`${root}/users/cdb`, (read) => {
      if (!read.ok) {
        // Opening failed (missing, or not allowed): the system accounts
        // answer instead. Reading a directory fails after opening it.
        if (read.error instanceof Deno.errors.IsADirectory) {
          throw new CvmError(ErrorCode.IO, "cannot read users/cdb");
        }
        return undefined;
      }
      try {
        return Cdb.fromBytes(read.bytes);
      } catch {
        throw new CvmError(ErrorCode.IO, "users/cdb is corrupt");
      }
    });
  }

  /**
   * Finds where a local part is delivered.
   *
   * @param local The local part (any case; it is lower-cased).
   * @param alias The catch-all account (qmail's "alias").
   * @returns The user, or undefined when not even the catch-all exists.
   * @throws {CvmError} IO when users/cdb or the account lookup fails.
   */
  lookup(local: string, alias = "alias"): QmailUser | undefined {
    const lower = asciiLower(local);
    const cdb = this.#cdb.get();
    if (cdb !== undefined) {
      let found: QmailUser | undefined;
      try {
        found = lookupUsersCdb(cdb, lower);
      } catch (e) {
        if (e instanceof CvmError) throw e;
        throw new CvmError(ErrorCode.IO, "users/cdb is corrupt");
      }
      if (found !== undefined) return found;
    }
    const system = lookupSystemUser(lower);
    if (system !== undefined) return system;
    const pw = getpw(alias);
    if (pw === undefined) return undefined;
    return {
      user: pw.name,
      uid: String(pw.uid),
      gid: String(pw.gid),
      home: pw.dir,
      dash: lower === "" ? "" : "-",
      ext: lower,
      rest: lower,
    };
  }
}
