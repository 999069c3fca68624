/**
 * qmail's user lookup for a local part, as the reference's cvm-qmail does
 * it: for the whole local part, then each shorter `user-ext` split, then
 * the empty name, first `users/cdb` (exact `=` entries, `+` wildcard
 * prefixes, the `+:` catch-all), then the system account of that name (the
 * `alias` user for the empty name).
 *
 * @module
 */

import {
  asciiLower,
  CvmError,
  ErrorCode,
  toBytes,
  toExactText,
} from "../../protocol/mod.ts";
import { getpwnam } from "../../sys/mod.ts";
import { CachedFile } from "../file_cache/mod.ts";
import { Cdb } from "../cdb/mod.ts";

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
 * import assert from "node:assert/strict";
 * import { parseUnsignedLong } from "./users.ts";
 * assert.equal(parseUnsignedLong(" 42"), "42");
 * assert.equal(parseUnsignedLong("-1"), "18446744073709551615");
 * assert.equal(parseUnsignedLong("4x"), undefined);
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
 * import assert from "node:assert/strict";
 * import { parseUsersRecord } from "./users.ts";
 * const enc = new TextEncoder();
 * assert.equal(parseUsersRecord(enc.encode("bob\x001000\x00100\x00/home/bob\x00-\x00x\x00"))?.ext, "x");
 * ```
 */
export function parseUsersRecord(data: Uint8Array): QmailUser | undefined {
  // With the implied final NUL, "a\0b" holds the fields a and b, and
  // "a\0b\0" holds a, b and an empty third one.
  const fields = toExactText(data).split("\0");
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

/** What the search needs of a system account (getpwnam's entry). */
export interface SystemAccount {
  /** The login name. */
  name: string;
  /** The user id. */
  uid: number;
  /** The group id. */
  gid: number;
  /** The home directory. */
  dir: string;
}

/** One name the search tries, and what of the local part it leaves over. */
interface Candidate {
  /** The name as given (for getpwnam when a users/cdb exists). */
  name: string;
  /** "" for the whole local part, "-" for a prefix or the catch-all. */
  dash: "" | "-";
  /** The lower-cased rest of the local part after the name and its dash. */
  rest: string;
}

/**
 * The names the reference tries for a local part, in order: the whole
 * local part, then each prefix ending before a dash (longest first, down
 * to the empty prefix of a local part that starts with one), then the
 * empty name, the catch-all.
 */
function candidates(local: string): Candidate[] {
  const lower = asciiLower(local);
  const out: Candidate[] = [{ name: local, dash: "", rest: "" }];
  for (let i = local.length; i > 0;) {
    i = local.lastIndexOf("-", i - 1);
    if (i < 0) break;
    out.push({ name: local.slice(0, i), dash: "-", rest: lower.slice(i + 1) });
  }
  out.push({ name: "", dash: "-", rest: lower });
  return out;
}

/**
 * Finds where a local part is delivered, in the reference's order: for
 * each name it tries (the whole local part, then each prefix ending before
 * a dash, longest first, then the empty name), first `users/cdb` (key
 * `!name\0` for the whole local part, `!name-` for a prefix, `!` for the
 * empty name), then the system account of that name (`alias` for the
 * empty name). So a system account such as `nobody` wins over a wildcard
 * or a catch-all entry. A wildcard match gets the rest of the local part
 * appended to its extension. With a users/cdb the system account is looked
 * up by the name as given, without one by the lower-cased name, as the
 * reference does.
 *
 * @param local The local part, as sent.
 * @param cdb The users database, undefined when there is none.
 * @param getpw Looks a system account up by name.
 * @returns The user, or undefined when no name matches.
 * @throws {CvmError} IO for a malformed users/cdb record.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookupLocalPart } from "./users.ts";
 * const nobody = { name: "nobody", uid: 65534, gid: 65534, dir: "/nonexistent" };
 * const user = lookupLocalPart("nobody-ext", undefined, (n) => n === "nobody" ? nobody : undefined);
 * assert.equal(user?.ext, "ext");
 * ```
 */
export function lookupLocalPart(
  local: string,
  cdb: Cdb | undefined,
  getpw: (name: string) => SystemAccount | undefined,
): QmailUser | undefined {
  for (const { name, dash, rest } of candidates(local)) {
    const lower = asciiLower(name);
    if (cdb !== undefined) {
      const key = lower === "" ? "!" : `!${lower}${dash === "" ? "\0" : "-"}`;
      // Names are bytes (toExactText, toBytes): jos\xff is not jos\xe9.
      const data = cdb.get(toBytes(key));
      if (data !== undefined) {
        // A wildcard record has no final NUL: the rest extends its ext.
        const user = parseUsersRecord(concatBytes(data, toBytes(rest)));
        if (user === undefined) {
          throw new CvmError(ErrorCode.IO, "malformed users/cdb record");
        }
        return { ...user, rest };
      }
    }
    const pw = getpw(
      lower === "" ? "alias" : cdb === undefined ? lower : name,
    );
    if (pw !== undefined) {
      return {
        user: pw.name,
        uid: String(pw.uid),
        gid: String(pw.gid),
        home: pw.dir,
        dash,
        ext: rest,
        rest,
      };
    }
  }
  return undefined;
}

/** getpwnam, a failing name service being a temporary error. */
function systemAccount(name: string): SystemAccount | undefined {
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
 * (re-read when it changes) and the system accounts, searched as
 * {@link lookupLocalPart} says.
 *
 * @example
 * ```ts
 * import { QmailUsers } from "./users.ts";
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
   * Finds where a local part is delivered (see {@link lookupLocalPart}).
   *
   * @param local The local part, as sent.
   * @returns The user, or undefined when not even the catch-all exists.
   * @throws {CvmError} IO when users/cdb or the account lookup fails.
   */
  lookup(local: string): QmailUser | undefined {
    const cdb = this.#cdb.get();
    try {
      return lookupLocalPart(local, cdb, systemAccount);
    } catch (e) {
      if (e instanceof CvmError) throw e;
      throw new CvmError(ErrorCode.IO, "users/cdb is corrupt");
    }
  }
}
