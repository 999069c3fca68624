/**
 * An account as cvm-cdb stores it: one passwd-format line,
 * `name:password:uid:gid:gecos:home:shell`, optionally followed by `:` and
 * Dovecot's extra fields (space-separated `key=value` pairs, a value may
 * hold `:`). Empty uid and gid fields (Dovecot allows them) stand for the
 * module's defaults, and a name for its id on the system. The module reads
 * a line as cvm-pwfile reads a Dovecot passwd-file line; these functions
 * check and edit lines for the store.
 *
 * @module
 */

/** One account line, split into its fields (all text, as stored). */
export interface AccountLine {
  /** The account name as written. */
  name: string;
  /** The stored password: plain text, a crypt(3) hash or `{SCHEME}…`. */
  password: string;
  /** The user id field: a decimal number, a user name, or empty for the default. */
  uid: string;
  /** The group id field: a decimal number, a group name, or empty for the default. */
  gid: string;
  /** The GECOS field; its first comma field is the real name. */
  gecos: string;
  /** The home directory. */
  home: string;
  /** The login shell. */
  shell: string;
  /** Dovecot's extra fields after the seventh field, or undefined when none. */
  extra?: string;
}

/**
 * A user or group id field: empty, a decimal number (of at most 32 bits),
 * or a user or group name (Dovecot looks those up).
 */
const ID_FIELD = /^(?:|[0-9]{1,10}|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/;

/**
 * Splits a passwd-format or Dovecot passwd-file line into its fields.
 *
 * @param line The line, without its newline.
 * @returns The fields, or undefined when the line has fewer than seven
 *   fields, no name, or an id field that is neither empty, a name, nor a
 *   decimal number of at most 32 bits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAccountLine } from "./account_line.ts";
 * assert.equal(
 *   parseAccountLine("bob:pw:1000:100:Bob:/home/bob:/bin/sh")?.home,
 *   "/home/bob",
 * );
 * assert.equal(
 *   parseAccountLine("bob:{PLAIN}pw:::::: userdb_mail=maildir:~/Maildir")?.extra,
 *   " userdb_mail=maildir:~/Maildir",
 * );
 * assert.equal(parseAccountLine("bob:pw:1:2"), undefined);
 * ```
 */
export function parseAccountLine(line: string): AccountLine | undefined {
  const fields = line.split(":");
  if (fields.length < 7 || fields[0] === "") return undefined;
  const [name, password, uid, gid, gecos, home, shell] = fields;
  if (!ID_FIELD.test(uid) || !ID_FIELD.test(gid)) return undefined;
  const tooBig = (id: string) => /^[0-9]+$/.test(id) && Number(id) > 0xffffffff;
  if (tooBig(uid) || tooBig(gid)) return undefined;
  const extra = fields.length > 7 ? fields.slice(7).join(":") : undefined;
  return { name, password, uid, gid, gecos, home, shell, extra };
}

/**
 * Joins an account's fields back into its line; the inverse of
 * {@link parseAccountLine}.
 *
 * @param account The fields.
 * @returns The line, without a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatAccountLine } from "./account_line.ts";
 * assert.equal(
 *   formatAccountLine({ name: "bob", password: "pw", uid: "1", gid: "2",
 *     gecos: "", home: "/home/bob", shell: "" }),
 *   "bob:pw:1:2::/home/bob:",
 * );
 * ```
 */
export function formatAccountLine(account: AccountLine): string {
  const { name, password, uid, gid, gecos, home, shell, extra } = account;
  const line = [name, password, uid, gid, gecos, home, shell].join(":");
  return extra === undefined ? line : `${line}:${extra}`;
}

/**
 * Whether text can be one field of a line: no `:`, newline, carriage
 * return or NUL (a plain-text password may hold one, a hash never does).
 *
 * @param text The field's text.
 * @returns True when it fits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitsField } from "./account_line.ts";
 * assert.equal(fitsField("$6$salt$hash"), true);
 * assert.equal(fitsField("a:b"), false);
 * ```
 */
export function fitsField(text: string): boolean {
  return !/[:\n\r\0]/.test(text);
}
