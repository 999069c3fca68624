/**
 * cvm-cdb: accounts from a cdb file at `$CVM_CDB_PATH`, keyed by the
 * account name folded to ASCII lower case (`account@domain` with
 * `$CVM_CDB_DOMAINS=1`), each value the account's passwd-format line.
 *
 * Command mode opens the file and reads only the key's slots and record:
 * no parse at start, the same cost for 100,000 accounts as for 2. Server
 * modes keep the file in memory and read it again when it changes (or on
 * SIGHUP); the writers (`cvm cdbpasswd`, upgrade on login) replace it
 * whole, so a reader never sees a partial file.
 *
 * @module
 */

import {
  CvmError,
  ErrorCode,
  type Facts,
  toBytes,
  toExactText,
} from "../../protocol/mod.ts";
import type { Backend, BackendContext, ModuleRequest } from "../runtime/mod.ts";
import { Cdb, cdbFileFirst, cdbFileGet } from "../cdb/mod.ts";
import { CachedFile } from "../file_cache/mod.ts";
import {
  checkPassword,
  createPasswordDecoy,
  dovecotDefaultsFromEnv,
  dovecotLineParser,
  type PasswdLine,
  readPasswordComparison,
  rehasherFromEnv,
  type StoreForm,
} from "../passwords/mod.ts";
import { accountKey, updateAccountStore } from "./account_store.ts";
import { fitsField } from "./account_line.ts";

/** An account cvm-cdb found. */
export interface CdbAccount {
  /** The key it was found under. */
  key: string;
  /** Its line, read as cvm-pwfile reads a Dovecot passwd-file line. */
  entry: PasswdLine;
}

/**
 * Reads `$CVM_CDB_PWCMP`: `plain`, `crypt` or `scheme` (the default, what
 * `cvm cdbpasswd` writes).
 *
 * @param value The variable's value.
 * @returns The store's form.
 * @throws {CvmError} CONFIG for anything else.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCdbPwcmp } from "./backend.ts";
 * assert.equal(parseCdbPwcmp(undefined), "scheme");
 * ```
 */
export function parseCdbPwcmp(value: string | undefined): StoreForm {
  if (value === undefined || value === "") return "scheme";
  if (value === "plain" || value === "crypt" || value === "scheme") {
    return value;
  }
  throw new CvmError(
    ErrorCode.CONFIG,
    '$CVM_CDB_PWCMP must be "plain", "crypt" or "scheme"',
  );
}

/** Reads `$CVM_CDB_DOMAINS`: unset, empty or 0 is off, 1 is on. */
function parseDomains(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "0") return false;
  if (value === "1") return true;
  throw new CvmError(ErrorCode.CONFIG, "$CVM_CDB_DOMAINS must be 0 or 1");
}

/**
 * Reads an account's line as cvm-pwfile reads a line of a Dovecot
 * passwd-file (extra fields, ids by name, refusing fields), except that
 * in plain and crypt modes the password field is taken as it is.
 */
function lineReader(
  parse: (line: string) => PasswdLine | undefined,
  form: StoreForm,
): (data: Uint8Array) => PasswdLine | undefined {
  return (data) => {
    // Decoded as the request's name is, so that bytes compare as bytes.
    const line = toExactText(data);
    const entry = parse(line);
    if (entry === undefined || form === "scheme") return entry;
    return { ...entry, password: line.split(":")[1] ?? "" };
  };
}

/**
 * Makes the cvm-cdb backend from the environment.
 *
 * @param env `CVM_CDB_PATH` (required), `CVM_CDB_PWCMP`, `CVM_CDB_DOMAINS`,
 *   `CVM_CDB_UID`, `CVM_CDB_GID`, `CVM_DEFAULT_SCHEME`, `CVM_REHASH`.
 * @param context Server modes keep the file in memory.
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import { createCdbBackend } from "./backend.ts";
 * createCdbBackend({ CVM_CDB_PATH: "/etc/cvm/users.cdb" }, { persistent: false });
 * ```
 */
export function createCdbBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
): Backend<CdbAccount> {
  const path = env.CVM_CDB_PATH;
  if (!path) throw new CvmError(ErrorCode.CONFIG, "$CVM_CDB_PATH is not set");
  const form = parseCdbPwcmp(env.CVM_CDB_PWCMP);
  const comparison = readPasswordComparison("CVM_CDB_PWCMP", {
    ...env,
    CVM_CDB_PWCMP: form,
  });
  const domains = parseDomains(env.CVM_CDB_DOMAINS);
  const read = lineReader(
    dovecotLineParser(
      dovecotDefaultsFromEnv(env, { uid: "CVM_CDB_UID", gid: "CVM_CDB_GID" }),
    ),
    form,
  );
  const rehasher = rehasherFromEnv("cvm-cdb", env, form, "CVM_CDB_PWCMP");
  const makeCache = () =>
    new CachedFile(path, (file) => {
      if (!file.ok) throw unreadable(file.error);
      try {
        return Cdb.fromBytes(file.bytes);
      } catch {
        throw new CvmError(ErrorCode.IO, "$CVM_CDB_PATH is not a cdb file");
      }
    });
  let cache = makeCache();
  // Command mode opens the file per use, reading only what it needs.
  const onDisk = <T>(use: (file: Deno.FsFile) => T): T => {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true });
    } catch (e) {
      throw unreadable(e);
    }
    try {
      return use(file);
    } catch (e) {
      if (e instanceof CvmError) throw e;
      throw new CvmError(ErrorCode.IO, "$CVM_CDB_PATH is not a cdb file");
    } finally {
      file.close();
    }
  };
  const find = (key: Uint8Array): Uint8Array | undefined =>
    context.persistent
      ? cache.get().get(key)
      : onDisk((file) => cdbFileGet(file, key));
  // The dummy hash follows the store's own: every stored value in server
  // modes, the first record's alone in command mode (one more read).
  const decoy = createPasswordDecoy(comparison, () => {
    const values = context.persistent
      ? [...cache.get().entries()].map(([, value]) => value)
      : [onDisk(cdbFileFirst)?.[1]];
    return values.flatMap((value) => {
      const entry = value && read(value);
      return entry ? [entry.password] : [];
    });
  });
  const store = (account: CdbAccount, value: string) =>
    updateAccountStore(path, (accounts) => {
      const now = accounts.get(account.key);
      const entry = now === undefined ? undefined : read(toBytes(now));
      // Only where the value that matched is still stored: a password
      // changed meanwhile (or a concurrent login's upgrade) stands.
      if (now === undefined || entry?.password !== account.entry.password) {
        return false;
      }
      if (!fitsField(value)) {
        throw new Error("the new value does not fit in a passwd-format line");
      }
      const fields = now.split(":");
      fields[1] = value;
      accounts.set(account.key, fields.join(":"));
      return true;
    }, { lockTimeoutMs: 2000 });

  return {
    lookup(request: ModuleRequest) {
      const name = domains && request.domain !== ""
        ? `${request.account}@${request.domain}`
        : request.account;
      const key = accountKey(name);
      const data = find(toBytes(key));
      if (data === undefined) return Promise.resolve(undefined);
      const entry = read(data);
      if (entry === undefined) {
        throw new CvmError(
          ErrorCode.BAD_MODDATA,
          "the account's value in $CVM_CDB_PATH is not a passwd-format line",
        );
      }
      // An empty password field is no account, as in cvm-pwfile.
      if (entry.password === "") return Promise.resolve(undefined);
      return Promise.resolve({ key, entry });
    },
    async authenticate(account, request) {
      const stored = account.entry.password;
      const matched = await checkPassword(comparison, request, stored, decoy);
      // A refused account (Dovecot's nologin, allow_nets …) never logs in,
      // but costs its check all the same.
      if (!matched || account.entry.refused !== undefined) return false;
      if (rehasher && request.password !== undefined) {
        await rehasher.afterLogin(
          stored,
          request.password,
          (value) => store(account, value),
        );
      }
      return true;
    },
    async decoy(request) {
      await decoy?.reject(request.password);
    },
    results(account): Facts {
      const { entry } = account;
      if (entry.problem !== undefined) {
        throw new CvmError(ErrorCode.CONFIG, entry.problem);
      }
      const facts: Facts = {
        username: entry.name,
        userid: entry.uid,
        groupid: entry.gid,
        realname: entry.gecos.split(",")[0],
        directory: entry.directory,
        shell: entry.shell,
      };
      if (entry.mailbox !== undefined) facts.mailbox = entry.mailbox;
      const at = entry.name.lastIndexOf("@");
      if (domains && at >= 0) facts.domain = entry.name.slice(at + 1);
      return facts;
    },
    reload() {
      cache = makeCache(); // the next request reads the file again
      return Promise.resolve();
    },
  };
}

/** A file that cannot be opened or read: a temporary error (IO). */
function unreadable(error: unknown): CvmError {
  return new CvmError(
    ErrorCode.IO,
    `cannot read $CVM_CDB_PATH: ${(error as Error).name}`,
  );
}
