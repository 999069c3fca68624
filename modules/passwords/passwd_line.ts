/**
 * Lines of a passwd file as cvm-pwfile and cvm-cdb read them: the
 * /etc/passwd layout (`parsePasswdLine`) and Dovecot's passwd-file layout
 * with its defaults, `userdb_*` extra fields and refusing fields
 * (`dovecotLineParser`), both giving a `PasswdLine`.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import { getgrnam, getpwnam } from "../../sys/mod.ts";
import {
  mailboxOfLocation,
  parseDovecotPasswdLine,
} from "./dovecot_passwd_file.ts";

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
 * Reads the default ids of a Dovecot passwd-file's empty uid and gid
 * fields from the environment (cvm-pwfile's `$CVM_PWFILE_UID` and
 * `$CVM_PWFILE_GID`, or the variables given): each unset or empty (no
 * default), or a decimal id of at most 32 bits.
 *
 * @param env The module's environment.
 * @param variables The two variables' names.
 * @returns The defaults, naming the variables for the error of a line
 *   that needs one that is not set.
 * @throws {CvmError} CONFIG naming a variable that is not a decimal id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dovecotDefaultsFromEnv } from "./passwd_line.ts";
 * assert.deepEqual(dovecotDefaultsFromEnv({ CVM_PWFILE_UID: "1000" }), {
 *   uid: 1000,
 *   gid: undefined,
 *   variables: { uid: "CVM_PWFILE_UID", gid: "CVM_PWFILE_GID" },
 * });
 * assert.throws(
 *   () => dovecotDefaultsFromEnv({ CVM_CDB_GID: "x" }, { uid: "CVM_CDB_UID", gid: "CVM_CDB_GID" }),
 *   /\$CVM_CDB_GID is not a decimal id/,
 * );
 * ```
 */
export function dovecotDefaultsFromEnv(
  env: Record<string, string | undefined>,
  variables: { uid: string; gid: string } = {
    uid: "CVM_PWFILE_UID",
    gid: "CVM_PWFILE_GID",
  },
): DovecotDefaults {
  const id = (variable: string) => {
    const text = env[variable];
    if (text === undefined || text === "") return undefined;
    if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) {
      throw new CvmError(ErrorCode.CONFIG, `$${variable} is not a decimal id`);
    }
    return Number(text);
  };
  return { uid: id(variables.uid), gid: id(variables.gid), variables };
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
 * import assert from "node:assert/strict";
 * import { dovecotLineParser } from "./passwd_line.ts";
 * const parse = dovecotLineParser({ uid: 5000, gid: 5000 });
 * const entry = parse("bob:{PLAIN}pw:::Bob:/home/bob::userdb_mail=maildir:~/Maildir");
 * assert.equal(entry?.mailbox, "/home/bob/Maildir");
 * assert.equal(entry?.uid, 5000);
 * assert.equal(parse("bob:{PLAIN}pw:x:::/home/bob:"), undefined); // a bad uid
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
 * import assert from "node:assert/strict";
 * import { parsePasswdLine } from "./passwd_line.ts";
 * assert.equal(parsePasswdLine("bob:pw:1000:100:Bob,,:/home/bob:/bin/sh")?.uid, 1000);
 * assert.equal(parsePasswdLine("bob:pw:x:100:Bob,,:/home/bob:/bin/sh"), undefined);
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
