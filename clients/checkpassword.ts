/**
 * cvm-checkpassword and cvm-v1checkpassword: the checkpassword interface.
 * Reads `account NUL password NUL [timestamp NUL]` from fd 3, validates,
 * sets the environment, groups and user, changes to the home directory and
 * replaces itself with the next program.
 *
 * @module
 */

import { type ClientFacts, ErrorCode, MAX_PACKET } from "../protocol/mod.ts";
import { FatalError, type Invocation } from "../program.ts";
import { authenticatePassword, ucspiDomain } from "./client.ts";

/** The checkpassword exit status for malformed fd-3 data. */
export const EXIT_BAD_INPUT = 2;
/** The checkpassword exit status for local trouble (fd 3 unreadable, exec failed). */
export const EXIT_LOCAL_TROUBLE = 111;

/** Account, password and the optional timestamp from fd 3. */
export interface CheckpasswordInput {
  account: Uint8Array;
  password: Uint8Array;
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
 * import { parseCheckpasswordInput } from "./checkpassword.ts";
 * parseCheckpasswordInput(new TextEncoder().encode("bob\0pw\0"))?.password.length; // 2
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

/**
 * The environment the next program gets: `USER HOME SHELL UID GID`, and
 * `NAME GROUP DOMAIN MAIL MAILBOX MAILDIR` where the fact came back.
 *
 * @param env The current environment.
 * @param facts The facts of the successful validation.
 * @returns The new environment.
 * @example
 * ```ts
 * import { checkpasswordEnv } from "./checkpassword.ts";
 * checkpasswordEnv({}, { all: [], username: "bob", userid: 1, groupid: 2, directory: "/h" }).HOME;
 * // "/h"
 * ```
 */
export function checkpasswordEnv(
  env: Record<string, string | undefined>,
  facts: ClientFacts,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out.USER = facts.username ?? "";
  out.UID = String(facts.userid);
  out.GID = String(facts.groupid);
  out.HOME = facts.directory ?? "";
  if (facts.shell !== undefined) out.SHELL = facts.shell;
  if (facts.realname !== undefined) out.NAME = facts.realname;
  if (facts.groupname !== undefined) out.GROUP = facts.groupname;
  if (facts.domain !== undefined) out.DOMAIN = facts.domain;
  if (facts.mailbox !== undefined) {
    out.MAIL = out.MAILBOX = out.MAILDIR = facts.mailbox;
  }
  return out;
}

/** Reads fd 3 to its end (keeping at most 513 bytes); undefined when unreadable. */
function readFd3(): Uint8Array | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync("/dev/fd/3", { read: true });
  } catch {
    return undefined;
  }
  try {
    const buffer = new Uint8Array(MAX_PACKET + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = file.readSync(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    return buffer.slice(0, length);
  } catch {
    return undefined;
  } finally {
    file.close();
  }
}

async function checkpassword(
  invocation: Invocation,
  version: 1 | 2,
): Promise<number> {
  const { name, args, env } = invocation;
  if (args.length < 2) {
    throw new FatalError(1, `usage: ${name} cvmodule program [args ...]`);
  }
  const [module, program, ...programArgs] = args;
  const raw = readFd3();
  if (raw === undefined) return EXIT_LOCAL_TROUBLE;
  const input = parseCheckpasswordInput(raw);
  if (input === undefined) return EXIT_BAD_INPUT;
  const result = await authenticatePassword(module, {
    account: new TextDecoder().decode(input.account),
    domain: ucspiDomain(env),
    password: input.password,
  }, { env, version });
  input.password.fill(0);
  if (result.code !== ErrorCode.OK) return result.code;
  const facts = result.facts;
  const nextEnv = checkpasswordEnv(env, facts);
  const sys = await import("../sys/process.ts");
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
    const path = sys.resolveExecutable(program, nextEnv.PATH);
    if (path === undefined) return EXIT_LOCAL_TROUBLE;
    return sys.execve(path, [program, ...programArgs], nextEnv);
  } catch {
    return EXIT_LOCAL_TROUBLE;
  }
}

/**
 * `cvm-checkpassword MODULE PROGRAM [ARGS...]`, protocol version 2.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status on failure (on success it never returns: PROGRAM replaces it).
 * @example
 * ```ts
 * import { checkpasswordMain } from "./checkpassword.ts";
 * // Deno.exit(await checkpasswordMain({ name: "cvm-checkpassword", args, env }));
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
 * import { v1checkpasswordMain } from "./checkpassword.ts";
 * // Deno.exit(await v1checkpasswordMain({ name: "cvm-v1checkpassword", args, env }));
 * ```
 */
export function v1checkpasswordMain(invocation: Invocation): Promise<number> {
  return checkpassword(invocation, 1);
}
