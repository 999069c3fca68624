/**
 * cvm-checkpassword and cvm-v1checkpassword: the checkpassword interface.
 * Reads `account NUL password NUL [timestamp NUL]` from fd 3, validates,
 * sets the environment, groups and user, changes to the home directory and
 * replaces itself with the next program. Called by Dovecot's checkpassword
 * driver, it hands the facts back as userdb fields instead (see
 * `dovecotCall`).
 *
 * @module
 */

import {
  type ClientFacts,
  ErrorCode,
  MAX_PACKET,
  toExactText,
} from "../protocol/mod.ts";
import { FatalError, type Invocation } from "../program.ts";
import { authenticatePassword, ucspiDomain } from "./client.ts";
import { checkpasswordEnv } from "./facts_env.ts";

/** The checkpassword exit status for malformed fd-3 data. */
export const EXIT_BAD_INPUT = 2;
/** The checkpassword exit status for local trouble (fd 3 unreadable, exec failed). */
export const EXIT_LOCAL_TROUBLE = 111;

/** Account, password and the optional timestamp from fd 3. */
export interface CheckpasswordInput {
  /** The account name as given. */
  account: Uint8Array;
  /** The password. */
  password: Uint8Array;
  /** The APOP timestamp or other third field, when given. */
  timestamp?: Uint8Array;
}

/**
 * Parses the checkpassword input: at most 512 bytes, the account and the
 * password each NUL-terminated, then an optional NUL-terminated timestamp.
 *
 * @param bytes What fd 3 held.
 * @returns The fields, or undefined when malformed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCheckpasswordInput } from "./checkpassword.ts";
 * const input = parseCheckpasswordInput(new TextEncoder().encode("bob\0pw\0"));
 * assert.deepEqual(input?.password, new TextEncoder().encode("pw"));
 * assert.equal(input?.timestamp, undefined);
 * assert.equal(parseCheckpasswordInput(new TextEncoder().encode("bob\0pw")), undefined);
 * ```
 */
export function parseCheckpasswordInput(
  bytes: Uint8Array,
): CheckpasswordInput | undefined {
  if (bytes.length > MAX_PACKET) return undefined;
  const first = bytes.indexOf(0);
  if (first < 0) return undefined;
  const second = bytes.indexOf(0, first + 1);
  if (second < 0) return undefined;
  const third = bytes.indexOf(0, second + 1);
  return {
    account: bytes.slice(0, first),
    password: bytes.slice(first + 1, second),
    timestamp: third < 0 ? undefined : bytes.slice(second + 1, third),
  };
}

/** The descriptor the checkpassword interface reads its input from. */
const INPUT_FD = 3;

/**
 * Reads fd 3 to its end (keeping at most 513 bytes) and closes it, so that
 * neither a module run as a command nor the next program can read the
 * password there again. The descriptor is read as it is, whatever it is: a
 * file, a pipe or a socket (Linux cannot reopen a socket through
 * /dev/fd/3). Undefined when fd 3 was not given or cannot be read.
 */
async function takeFd3(): Promise<Uint8Array | undefined> {
  const fd = await import("../sys/mod.ts");
  if (!fd.isInheritedFd(INPUT_FD)) return undefined;
  try {
    return fd.readFdSync(INPUT_FD, MAX_PACKET + 1);
  } catch {
    return undefined;
  } finally {
    try {
      fd.closeFd(INPUT_FD);
    } catch { /* nothing more to close */ }
  }
}

/**
 * How Dovecot's checkpassword driver called us: `"auth"` to check a
 * password (it exports `ORIG_UID`, its own uid, which its
 * checkpassword-reply compares with the uid it runs as), `"lookup"` for a
 * userdb or credentials lookup without a password check (`AUTHORIZED=1`).
 *
 * @param env The environment.
 * @returns The kind of call, or undefined when the caller is not Dovecot.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dovecotCall } from "./checkpassword.ts";
 * assert.equal(dovecotCall({ ORIG_UID: "108" }), "auth");
 * assert.equal(dovecotCall({ ORIG_UID: "108", AUTHORIZED: "1" }), "lookup");
 * assert.equal(dovecotCall({ TCPLOCALHOST: "mail.example" }), undefined);
 * ```
 */
export function dovecotCall(
  env: Record<string, string | undefined>,
): "auth" | "lookup" | undefined {
  if (env.AUTHORIZED === "1") return "lookup";
  if (env.ORIG_UID !== undefined && /^[0-9]+$/.test(env.ORIG_UID)) {
    return "auth";
  }
  return undefined;
}

/**
 * The exit status Dovecot reads for a failed validation: 1 (auth) or 3
 * (lookup: user unknown) for a rejection, 111 (temporary failure) for
 * anything else, since Dovecot reads some small codes (2, 3, 12…) its own way.
 *
 * @param code The CVM result code (non-zero).
 * @param call How Dovecot called us.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dovecotFailureStatus } from "./checkpassword.ts";
 * assert.equal(dovecotFailureStatus(100, "auth"), 1);
 * assert.equal(dovecotFailureStatus(100, "lookup"), 3);
 * assert.equal(dovecotFailureStatus(4, "auth"), 111);
 * ```
 */
export function dovecotFailureStatus(
  code: number,
  call: "auth" | "lookup",
): number {
  if (code !== ErrorCode.PERMFAIL) return EXIT_LOCAL_TROUBLE;
  return call === "lookup" ? 3 : 1;
}

/**
 * The environment for Dovecot's checkpassword-reply: the usual
 * checkpassword variables, plus the facts as userdb extra fields
 * (`userdb_uid`, `userdb_gid`, `userdb_home`, and `userdb_mail` as
 * `maildir:PATH` when a mailbox came back) named in `EXTRA`, and
 * `AUTHORIZED=2` for a lookup.
 *
 * @param env The current environment.
 * @param facts The facts of the successful validation.
 * @param call How Dovecot called us.
 * @returns The new environment.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dovecotEnv } from "./checkpassword.ts";
 * const env = dovecotEnv({ ORIG_UID: "108" }, {
 *   all: [], username: "bob", userid: 1, groupid: 2, directory: "/h", mailbox: "Maildir",
 * }, "auth");
 * assert.equal(env.userdb_uid, "1");
 * assert.equal(env.userdb_mail, "maildir:/h/Maildir");
 * assert.equal(env.EXTRA, "userdb_uid userdb_gid userdb_home userdb_mail");
 * ```
 */
export function dovecotEnv(
  env: Record<string, string | undefined>,
  facts: ClientFacts,
  call: "auth" | "lookup",
): Record<string, string> {
  const out = checkpasswordEnv(env, facts);
  const fields: Record<string, string> = {
    userdb_uid: out.UID,
    userdb_gid: out.GID,
    userdb_home: out.HOME,
  };
  if (facts.mailbox !== undefined) {
    const mailbox = facts.mailbox.startsWith("/")
      ? facts.mailbox
      : `${out.HOME.replace(/\/+$/, "")}/${facts.mailbox}`;
    fields.userdb_mail = `maildir:${mailbox}`;
  }
  Object.assign(out, fields);
  const extra = (env.EXTRA ?? "").split(" ").filter((k) => k !== "");
  for (const key of Object.keys(fields)) {
    if (!extra.includes(key)) extra.push(key);
  }
  out.EXTRA = extra.join(" ");
  if (call === "lookup") out.AUTHORIZED = "2";
  return out;
}

/**
 * Dovecot's way: never change user or directory (its checkpassword-reply
 * refuses to run after a uid change); hand the facts back in the
 * environment and exec the reply program, or exit as Dovecot reads it.
 */
async function handBackToDovecot(
  call: "auth" | "lookup",
  result: { code: number; facts: ClientFacts },
  env: Record<string, string | undefined>,
  program: string,
  programArgs: string[],
): Promise<number> {
  if (result.code !== ErrorCode.OK) {
    return dovecotFailureStatus(result.code, call);
  }
  return await execNext(
    program,
    programArgs,
    dovecotEnv(env, result.facts, call),
  );
}

/** Replaces this process with the next program (PATH searched); 111 if that fails. */
async function execNext(
  program: string,
  programArgs: string[],
  env: Record<string, string>,
): Promise<number> {
  const sys = await import("../sys/mod.ts");
  const path = sys.resolveExecutable(program, env.PATH);
  if (path === undefined) return EXIT_LOCAL_TROUBLE;
  try {
    return sys.execve(path, [program, ...programArgs], env);
  } catch {
    return EXIT_LOCAL_TROUBLE;
  }
}

async function checkpassword(
  invocation: Invocation,
  version: 1 | 2,
): Promise<number> {
  const { name, args, env } = invocation;
  if (args.length < 2) {
    throw new FatalError(
      EXIT_LOCAL_TROUBLE,
      `usage: ${name} cvmodule program [args ...]`,
    );
  }
  const [module, program, ...programArgs] = args;
  // Before anything else runs: fd 3 is read and closed first.
  const raw = await takeFd3();
  if (raw === undefined) return EXIT_LOCAL_TROUBLE;
  const input = parseCheckpasswordInput(raw);
  raw.fill(0);
  if (input === undefined) return EXIT_BAD_INPUT;
  const result = await authenticatePassword(module, {
    // As sent: toExactText keeps bytes that are not UTF-8 for toBytes.
    account: toExactText(input.account),
    domain: ucspiDomain(env),
    password: input.password,
  }, { env, version, keepEmptyPassword: version === 1 });
  input.password.fill(0);
  const dovecot = dovecotCall(env);
  if (dovecot !== undefined) {
    return await handBackToDovecot(dovecot, result, env, program, programArgs);
  }
  if (result.code !== ErrorCode.OK) return result.code;
  const facts = result.facts;
  const nextEnv = checkpasswordEnv(env, facts);
  const sys = await import("../sys/mod.ts");
  try {
    const uid = facts.userid!;
    const gid = facts.groupid!;
    if (sys.geteuid() === 0) {
      sys.setgroups(facts.suppGroupids?.length ? facts.suppGroupids : [gid]);
      sys.setgid(gid);
      sys.setuid(uid);
    } else if (sys.geteuid() !== uid) {
      sys.setuid(uid); // fails (EPERM) unless we may: reported below
    }
    sys.chdir(facts.directory!);
  } catch {
    return EXIT_LOCAL_TROUBLE;
  }
  return await execNext(program, programArgs, nextEnv);
}

/**
 * `cvm-checkpassword MODULE PROGRAM [ARGS...]`, protocol version 2.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status on failure (on success it never returns: PROGRAM replaces it).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpasswordMain } from "./checkpassword.ts";
 * import { reportFatal } from "../program.ts";
 * // Without a module and a program: the usage on stderr, status 111, as
 * // main.ts reports it.
 * const status = await checkpasswordMain({
 *   name: "cvm-checkpassword", args: [], env: {},
 * }).catch((e) => reportFatal("cvm-checkpassword", e));
 * assert.equal(status, 111);
 * ```
 */
export function checkpasswordMain(invocation: Invocation): Promise<number> {
  return checkpassword(invocation, 2);
}

/**
 * `cvm-v1checkpassword MODULE PROGRAM [ARGS...]`, protocol version 1.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { v1checkpasswordMain } from "./checkpassword.ts";
 * import { reportFatal } from "../program.ts";
 * const status = await v1checkpasswordMain({
 *   name: "cvm-v1checkpassword", args: ["/usr/bin/cvm-unix"], env: {},
 * }).catch((e) => reportFatal("cvm-v1checkpassword", e));
 * assert.equal(status, 111); // no program to run: the usage
 * ```
 */
export function v1checkpasswordMain(invocation: Invocation): Promise<number> {
  return checkpassword(invocation, 1);
}
