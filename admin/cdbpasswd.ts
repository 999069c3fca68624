/**
 * `cvm cdbpasswd`: the admin's tool for a cvm-cdb account store. A thin
 * program over the store (`modules/cdbfile/`): every change is made under
 * the store's writers' lock and written as a new file renamed over the
 * old one. Passwords are read as `cvm pw` reads them.
 *
 * @module
 */

import { type CvmError, toBytes, toExactText } from "../protocol/mod.ts";
import {
  DEFAULT_STORE_SCHEME,
  hashForStore,
  type StoreForm,
  storeScheme,
} from "../modules/passwords/mod.ts";
import {
  accountKey,
  type AccountLine,
  type AccountRecords,
  fitsField,
  formatAccountLine,
  parseAccountLine,
  parseCdbPwcmp,
  readAccountStore,
  updateAccountStore,
} from "../modules/cdbfile/mod.ts";
import { PasswordInputError, readPassword } from "./read_password.ts";

/** `cvm cdbpasswd --help`. */
export const CDBPASSWD_USAGE =
  `usage: cvm cdbpasswd [-f FILE] [-s SCHEME] COMMAND [ARGS]

  import [FILE]                     add or replace the accounts of a passwd-format
                                    or Dovecot passwd-file (stdin without FILE)
  add ACCOUNT UID GID HOME [SHELL]  a new account
  passwd ACCOUNT                    a new password for an account
  del ACCOUNT                       remove an account
  list                              the account names, one a line

FILE is the cdb file cvm-cdb reads (default: $CVM_CDB_PATH). add and passwd
read the password twice from a terminal without echo, else one line of
stdin, and store it hashed with SCHEME (default ${DEFAULT_STORE_SCHEME}) in the form
$CVM_CDB_PWCMP reads: {SCHEME}hash (scheme, the default), the bare crypt(3)
hash (crypt), or the text itself (plain, where SCHEME is PLAIN). A change
waits for the writers' lock (flock on FILE.lock) and replaces FILE whole.
`;

/** Where the program writes (the process's stdout and stderr by default). */
export interface CdbpasswdIo {
  /** Where `list` writes. */
  stdout: (text: string) => void;
  /** Where errors go. */
  stderr: (text: string) => void;
}

function defaultIo(): CdbpasswdIo {
  const write = (file: typeof Deno.stdout) => (text: string) => {
    const bytes = toBytes(text); // names that are not UTF-8 as their bytes
    let at = 0;
    while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
  };
  return { stdout: write(Deno.stdout), stderr: write(Deno.stderr) };
}

/** A failure to report: exit status and the line after the program name. */
class Failure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function usage(problem: string): Failure {
  return new Failure(2, `${problem}\n${CDBPASSWD_USAGE}`);
}

/** An account name: not empty, and nothing that would break a line. */
function checkName(name: string): void {
  if (name === "" || !fitsField(name)) {
    throw new Failure(1, "an account name must not be empty or hold ':'");
  }
}

function checkId(text: string, what: string): void {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw new Failure(1, `${what} must be a decimal number`);
  }
}

/** Reads all of a stream (the file `import` reads from stdin). */
async function readAll(input: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(input).arrayBuffer());
}

/**
 * The accounts of a passwd-format or Dovecot passwd-file: blank and `#`
 * lines skipped, a line of fewer than seven fields filled out with empty
 * ones (`user:{SCHEME}hash` is a Dovecot passdb line). A name given twice
 * keeps its first line (as cvm-pwfile reads it), with a warning.
 */
function parseImport(
  text: string,
  source: string,
  warn: (line: string) => void,
): AccountLine[] {
  const accounts = new Map<string, AccountLine>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = line.split(":").length;
    if (fields >= 2 && fields < 7) line += ":".repeat(7 - fields);
    const account = parseAccountLine(line);
    // Never the line itself: it holds a password.
    if (account === undefined || fields < 2) {
      throw new Failure(
        1,
        `${source}:${i + 1}: not a passwd-format line (name, password, ` +
          `decimal or empty uid and gid, gecos, home, shell); nothing imported`,
      );
    }
    const key = accountKey(account.name);
    if (accounts.has(key)) {
      warn(`${source}:${i + 1}: ${account.name} again; the first line stands`);
      continue;
    }
    accounts.set(key, account);
  }
  return [...accounts.values()];
}

/** The store's path and how its passwords are kept and hashed. */
interface Target {
  path: string;
  form: StoreForm;
  scheme: string;
}

/** Reads a new password and makes the stored value of it. */
async function newStoredPassword(target: Target): Promise<string> {
  let password: Uint8Array;
  try {
    password = await readPassword({ twice: true });
  } catch (e) {
    if (e instanceof PasswordInputError) throw new Failure(1, e.message);
    throw e;
  }
  try {
    const value = await hashForStore(target.form, target.scheme, password);
    if (!fitsField(value)) {
      throw new Failure(
        1,
        "a plain-text password with ':' or a line break cannot be stored",
      );
    }
    return value;
  } catch (e) {
    // The registry's refusals (a NUL, plain text that is not UTF-8) name
    // the reason, never the password.
    if (e instanceof RangeError) throw new Failure(1, e.message);
    throw e;
  } finally {
    password.fill(0);
  }
}

/** Runs one change under the lock. */
async function change(
  target: Target,
  edit: (accounts: AccountRecords) => boolean,
): Promise<void> {
  await updateAccountStore(target.path, edit);
}

async function runCommand(
  command: string,
  args: string[],
  target: Target,
  io: CdbpasswdIo,
): Promise<void> {
  const arity = (min: number, max: number) => {
    if (args.length < min || args.length > max) {
      throw usage(`${command}: wrong number of arguments`);
    }
  };
  switch (command) {
    case "list": {
      arity(0, 0);
      try {
        Deno.statSync(target.path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new Failure(1, `${target.path}: no such store`);
        }
        throw e;
      }
      const names = readAccountStore(target.path).names();
      io.stdout(names.map((name) => `${name}\n`).join(""));
      return;
    }
    case "import": {
      arity(0, 1);
      const source = args[0] ?? "(stdin)";
      const bytes = args[0] === undefined
        ? await readAll(Deno.stdin.readable)
        : Deno.readFileSync(args[0]);
      const accounts = parseImport(
        toExactText(bytes),
        source,
        (line) => io.stderr(`cvm cdbpasswd: ${line}\n`),
      );
      bytes.fill(0);
      await change(target, (records) => {
        for (const account of accounts) {
          records.set(account.name, formatAccountLine(account));
        }
        return true;
      });
      return;
    }
    case "add": {
      arity(4, 5);
      const [name, uid, gid, home, shell = ""] = args;
      checkName(name);
      checkId(uid, "UID");
      checkId(gid, "GID");
      if (!fitsField(home) || !fitsField(shell)) {
        throw new Failure(1, "HOME and SHELL must not hold ':'");
      }
      if (readAccountStore(target.path).get(name) !== undefined) {
        throw new Failure(1, `${name}: the account exists`);
      }
      const password = await newStoredPassword(target);
      const line = formatAccountLine({
        name,
        password,
        uid,
        gid,
        gecos: "",
        home,
        shell,
      });
      await change(target, (records) => {
        if (records.get(name) !== undefined) {
          throw new Failure(1, `${name}: the account exists`);
        }
        records.set(name, line);
        return true;
      });
      return;
    }
    case "passwd": {
      arity(1, 1);
      const [name] = args;
      if (readAccountStore(target.path).get(name) === undefined) {
        throw new Failure(1, `${name}: no such account`);
      }
      const password = await newStoredPassword(target);
      await change(target, (records) => {
        const now = records.get(name);
        const line = now === undefined ? undefined : parseAccountLine(now);
        if (line === undefined) {
          throw new Failure(1, `${name}: no such account`);
        }
        records.set(name, formatAccountLine({ ...line, password }));
        return true;
      });
      return;
    }
    case "del": {
      arity(1, 1);
      const [name] = args;
      await change(target, (records) => {
        if (!records.delete(name)) {
          throw new Failure(1, `${name}: no such account`);
        }
        return true;
      });
      return;
    }
    default:
      throw usage(`unknown command: ${command}`);
  }
}

/**
 * Runs `cvm cdbpasswd ARGS`.
 *
 * @param args The arguments after `cdbpasswd`.
 * @param env The environment (`CVM_CDB_PATH`, `CVM_CDB_PWCMP`).
 * @param io Where it writes (the process's stdout and stderr by default).
 * @returns The exit status: 0 done, 1 failed (nothing changed), 2 usage.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cdbpasswdMain } from "./cdbpasswd.ts";
 * const path = `${Deno.makeTempDirSync()}/users.cdb`;
 * assert.equal(await cdbpasswdMain(["-f", path, "del", "nobody"], {}), 1); // no such account
 * ```
 */
export async function cdbpasswdMain(
  args: string[],
  env: Record<string, string | undefined>,
  io: CdbpasswdIo = defaultIo(),
): Promise<number> {
  try {
    let path = env.CVM_CDB_PATH;
    let schemeName: string | undefined;
    let at = 0;
    for (; at < args.length && args[at].startsWith("-"); at++) {
      const option = args[at];
      if (option === "--help" || option === "-h") {
        io.stdout(CDBPASSWD_USAGE);
        return 0;
      }
      const value = args[at + 1];
      if ((option !== "-f" && option !== "-s") || value === undefined) {
        throw usage(`unknown option or missing value: ${option}`);
      }
      if (option === "-f") path = value;
      else schemeName = value;
      at++;
    }
    const [command, ...rest] = args.slice(at);
    if (command === undefined) throw usage("no command");
    if (!path) throw usage("no store: give -f FILE or set $CVM_CDB_PATH");
    let form: StoreForm;
    let scheme: string;
    try {
      form = parseCdbPwcmp(env.CVM_CDB_PWCMP);
      scheme = storeScheme(
        schemeName === undefined ? "the default scheme" : "-s",
        schemeName ?? (form === "plain" ? "PLAIN" : DEFAULT_STORE_SCHEME),
        form,
      );
    } catch (e) {
      throw new Failure(2, (e as CvmError).message);
    }
    await runCommand(command, rest, { path, form, scheme }, io);
    return 0;
  } catch (e) {
    const status = e instanceof Failure ? e.status : 1;
    const message = e instanceof Error ? e.message : String(e);
    io.stderr(`cvm cdbpasswd: ${message}\n`);
    return status;
  }
}
