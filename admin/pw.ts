/**
 * `cvm pw`, like Dovecot's `doveadm pw`: makes a `{SCHEME}` hash of a
 * password, checks a password against one, or lists the schemes.
 *
 * @module
 */

import { writeStderr, writeStdout } from "../program.ts";
import {
  ARGON2_DEFAULTS,
  DEFAULT_BLF_COST,
  DEFAULT_PBKDF2_ROUNDS,
  DEFAULT_SCRAM_ROUNDS,
  findScheme,
  type HashParams,
  hashPassword,
  listSchemes,
  UnknownSchemeError,
  verifyPassword,
} from "../modules/passwords/mod.ts";
import { PasswordInputError, readPassword } from "./read_password.ts";

/** `cvm pw -h`. */
export const PW_USAGE =
  `usage: cvm pw [-s SCHEME] [-r ROUNDS] [-m KIB] [-P LANES]
       cvm pw -t HASH [-s SCHEME]
       cvm pw -l

Reads a password (from a terminal twice without echo; else one line of
stdin) and prints its hash as {SCHEME}hash, in SCHEME (default CRYPT: the
system's crypt(3) default). A suffix gives the encoding: -s SHA256.HEX,
-s SSHA512.B64. With -t, reads the password once and checks it against
HASH (a HASH without {SCHEME} is in -s's scheme, default CRYPT): exit 0
when it matches, 1 when not. -l lists the schemes. Exit 2: usage error or
unknown scheme.

  -r ROUNDS  SHA256-CRYPT/SHA512-CRYPT rounds (default 5000), BLF-CRYPT
             log2 cost (default ${DEFAULT_BLF_COST}), PBKDF2 iterations (default ${DEFAULT_PBKDF2_ROUNDS}),
             SCRAM iterations (default ${DEFAULT_SCRAM_ROUNDS}), Argon2 passes (default ${ARGON2_DEFAULTS.argon2id.rounds} for
             ARGON2ID, ${ARGON2_DEFAULTS.argon2i.rounds} for ARGON2I), CRYPT's cost in the system's scheme
  -m KIB     Argon2 memory in KiB (default ${ARGON2_DEFAULTS.argon2id.memoryKiB} for ARGON2ID, ${ARGON2_DEFAULTS.argon2i.memoryKiB} for ARGON2I)
  -P LANES   Argon2 lanes (default 1)
`;

/** What the arguments ask for. */
interface PwRequest {
  action: "hash" | "test" | "list";
  scheme?: string;
  hash?: string;
  params: HashParams;
}

/** A usage error: its message, said with exit status 2. */
class UsageError extends Error {}

/** Reads a positive decimal option value no larger than `max`. */
function positive(flag: string, value: string, max: number): number {
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) {
    throw new UsageError(`${flag} wants a whole number from 1 to ${max}`);
  }
  return n;
}

/**
 * Parses `cvm pw`'s arguments (`-s X`, `-sX`, `-t HASH`, `-l`, `-r`,
 * `-m`, `-P`).
 *
 * @param args The arguments after `pw`.
 * @returns What to do.
 * @throws {UsageError} For anything else.
 */
function parseArgs(args: readonly string[]): PwRequest {
  const request: PwRequest = { action: "hash", params: {} };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-l") {
      request.action = "list";
      continue;
    }
    const flag = arg.slice(0, 2);
    if (!/^-[strmP]$/.test(flag)) {
      throw new UsageError(
        arg === "-p"
          ? "-p is not taken: a password in the arguments is seen by every user (ps); give it on stdin"
          : `unknown argument: ${arg}`,
      );
    }
    const value = arg.length > 2 ? arg.slice(2) : args[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case "-s":
        request.scheme = value;
        break;
      case "-t":
        request.action = "test";
        request.hash = value;
        break;
      case "-r":
        request.params.rounds = positive(flag, value, 0xffffffff);
        break;
      case "-m":
        request.params.memoryKiB = positive(flag, value, 0x400000);
        break;
      case "-P":
        request.params.parallelism = positive(flag, value, 0xffffff);
        break;
    }
  }
  return request;
}

/**
 * Runs `cvm pw`.
 *
 * @param args The arguments after `pw`.
 * @returns The exit status: 0 done (or matched), 1 no match or a failure,
 *   2 usage error or unknown scheme.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pwMain } from "./pw.ts";
 * assert.equal(await pwMain(["-l"]), 0); // the names on stdout
 * ```
 */
export async function pwMain(args: readonly string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    writeStdout(PW_USAGE);
    return 0;
  }
  let request: PwRequest;
  try {
    request = parseArgs(args);
    if (
      request.scheme !== undefined && findScheme(request.scheme) === undefined
    ) {
      throw new UsageError(
        `unknown scheme: ${request.scheme} (cvm pw -l lists them)`,
      );
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    writeStderr(`cvm pw: ${e.message}\n${PW_USAGE}`);
    return 2;
  }
  if (request.action === "list") {
    writeStdout(listSchemes().join(" ") + "\n");
    return 0;
  }
  let password: Uint8Array;
  try {
    password = await readPassword({ twice: request.action === "hash" });
  } catch (e) {
    if (!(e instanceof PasswordInputError)) throw e;
    writeStderr(`cvm pw: ${e.message}\n`);
    return 1;
  }
  try {
    if (request.action === "test") {
      const hash = request.hash!;
      const matched = await verifyPassword(hash, password, {
        defaultScheme: request.scheme,
      });
      if (!matched) {
        writeStderr("cvm pw: the password does not match\n");
        return 1;
      }
      writeStdout(`${hash} (verified)\n`);
      return 0;
    }
    const hash = await hashPassword(
      request.scheme ?? "CRYPT",
      password,
      request.params,
    );
    // As doveadm: the new hash must check, or something is wrong.
    if (!(await verifyPassword(hash, password))) {
      writeStderr("cvm pw: the new hash does not check; not printed\n");
      return 1;
    }
    writeStdout(hash + "\n");
    return 0;
  } catch (e) {
    if (e instanceof UnknownSchemeError) {
      writeStderr(`cvm pw: ${e.message}\n`);
      return 2;
    }
    writeStderr(`cvm pw: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    password.fill(0);
  }
}
