/**
 * Lines of Dovecot's passwd-file:
 * `user:password:uid:gid:gecos:home:shell:extra_fields`, read as Dovecot
 * reads them. Lines that are empty or start with `#` or `:` are skipped;
 * fields left out at the end are empty; the extra fields are everything
 * after the seventh colon, split at spaces into `key=value` pairs (so a
 * value may hold `:`); an empty eighth field is the old layout, whose
 * ninth holds the mail location. A password `HASH[13]` or `HASH[34]`
 * (libpam-pwdfile's layout) is `{CRYPT}HASH` or `{PLAIN-MD5}HASH`.
 *
 * @module
 */

/** One entry of a Dovecot passwd-file, its fields as written. */
export interface DovecotPasswdEntry {
  /** The user name. */
  name: string;
  /** The password field, `{SCHEME}…` or in the default scheme; "" when none. */
  password: string;
  /** The uid field ("" when left empty: the module's default). */
  uid: string;
  /** The gid field ("" when left empty). */
  gid: string;
  /** The GECOS field. */
  gecos: string;
  /** The home directory field. */
  home: string;
  /** The shell field. */
  shell: string;
  /** The extra fields, `key` → `value` (a bare `key` has ""), first one wins. */
  extra: ReadonlyMap<string, string>;
}

/**
 * Parses one line of a Dovecot passwd-file.
 *
 * @param line The line, without its newline.
 * @returns The entry, or undefined for a comment, a blank line or a line
 *   with no user name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDovecotPasswdLine } from "./dovecot_passwd_file.ts";
 * const entry = parseDovecotPasswdLine(
 *   "bob:{PLAIN}pw::::/home/bob::userdb_mail=maildir:~/Maildir quota=1G",
 * );
 * assert.equal(entry?.extra.get("userdb_mail"), "maildir:~/Maildir");
 * ```
 */
export function parseDovecotPasswdLine(
  line: string,
): DovecotPasswdEntry | undefined {
  if (line === "" || line[0] === "#" || line[0] === ":") return undefined;
  const fields = line.split(":");
  const field = (i: number) => fields[i] ?? "";
  let extraText: string | undefined;
  if (fields.length > 8 && fields[7] === "") {
    // The old layout: an empty eighth field, then the mail location.
    const mail = fields.slice(8).join(":");
    if (mail !== "") extraText = `userdb_mail=${mail}`;
  } else if (fields.length > 7) {
    extraText = fields.slice(7).join(":");
  }
  const extra = new Map<string, string>();
  for (const pair of extraText?.split(" ") ?? []) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const key = equals < 0 ? pair : pair.slice(0, equals);
    if (!extra.has(key)) {
      extra.set(key, equals < 0 ? "" : pair.slice(equals + 1));
    }
  }
  return {
    name: fields[0],
    password: pamPwdfilePassword(field(1)),
    uid: field(2),
    gid: field(3),
    gecos: field(4),
    home: field(5),
    shell: field(6),
    extra,
  };
}

/** libpam-pwdfile's `HASH[NN]`: 34 is PLAIN-MD5, 56 DIGEST-MD5, else CRYPT. */
function pamPwdfilePassword(password: string): string {
  const match = /^([^{$].*)\[([0-9]{2})\]$/.exec(password);
  if (match === null) return password;
  const scheme = match[2] === "34"
    ? "PLAIN-MD5"
    : match[2] === "56"
    ? "DIGEST-MD5"
    : "CRYPT";
  return `{${scheme}}${match[1]}`;
}

/**
 * The mailbox a Dovecot mail location names for a user: the directory of
 * a `maildir:` location, or the `INBOX=` file of an `mbox:` one, with `~`
 * as the home directory and `%u` (user), `%n` (its part before `@`), `%d`
 * (the part after), `%h` (home) and `%%` expanded.
 *
 * @param location The location, e.g. `maildir:~/Maildir:LAYOUT=fs`.
 * @param user The user name.
 * @param home The home directory.
 * @returns The path, or undefined for another format, a variable this
 *   does not expand, or a `~` with no home directory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mailboxOfLocation } from "./dovecot_passwd_file.ts";
 * assert.equal(mailboxOfLocation("maildir:~/Maildir", "bob", "/home/bob"), "/home/bob/Maildir");
 * assert.equal(mailboxOfLocation("maildir:/var/vmail/%d/%n", "bob@example.com", ""), "/var/vmail/example.com/bob");
 * assert.equal(mailboxOfLocation("mbox:~/mail:INBOX=/var/mail/%u", "bob", "/home/bob"), "/var/mail/bob");
 * ```
 */
export function mailboxOfLocation(
  location: string,
  user: string,
  home: string,
): string | undefined {
  const [format, path = "", ...params] = location.split(":");
  let raw: string | undefined;
  if (format === "maildir") raw = path;
  else if (format === "mbox") {
    raw = params.find((p) => p.startsWith("INBOX="))?.slice("INBOX=".length);
  }
  if (raw === undefined || raw === "") return undefined;
  const at = user.lastIndexOf("@");
  const values: Record<string, string> = {
    u: user,
    n: at < 0 ? user : user.slice(0, at),
    d: at < 0 ? "" : user.slice(at + 1),
    h: home,
    "%": "%",
  };
  let unknown = false;
  let expanded = raw.replace(/%(.?)/g, (_, key: string) => {
    if (!(key in values) || (key === "h" && home === "")) unknown = true;
    return values[key] ?? "";
  });
  if (unknown) return undefined;
  if (expanded === "~" || expanded.startsWith("~/")) {
    if (home === "") return undefined;
    expanded = home.replace(/\/$/, "") + expanded.slice(1);
  }
  return expanded;
}
