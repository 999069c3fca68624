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

import { CvmError, ErrorCode, type Facts } from "../../protocol/mod.ts";
import type { Backend, BackendContext, ModuleRequest } from "../runtime/mod.ts";
import { Cdb, cdbFileFirst, cdbFileGet } from "../cdb/mod.ts";
import { CachedFile } from "../file_cache/mod.ts";
import {
  checkPassword,
  CryptDecoy,
  firstHash,
  type Rehasher,
  rehasherFromEnv,
  type StoreForm,
} from "../passwords/mod.ts";
import {
  type AccountLine,
  extraMailbox,
  formatAccountLine,
  parseAccountLine,
} from "./account_line.ts";
import { accountKey, updateAccountStore } from "./account_store.ts";

/** An account cvm-cdb found. */
export interface CdbAccount {
  /** The key it was found under. */
  key: string;
  /** Its line. */
  line: AccountLine;
  /** Its facts, or why the line cannot give any (said after the password check). */
  facts: Facts | CvmError;
}

const decoder = new TextDecoder();

/**
 * Reads `$CVM_CDB_PWCMP`: `plain`, `crypt` or `scheme` (the default, what
 * `cvm cdbpasswd` writes).
 *
 * @param value The variable's value.
 * @returns The store's form.
 * @throws {CvmError} CONFIG for anything else.
 * @example
 * ```ts
 * import { parseCdbPwcmp } from "./backend.ts";
 * parseCdbPwcmp(undefined); // "scheme"
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

/** Reads a default user or group id variable: unset, or a decimal number. */
function defaultId(
  env: Record<string, string | undefined>,
  variable: string,
): number | undefined {
  const text = env[variable];
  if (text === undefined || text === "") return undefined;
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw new CvmError(ErrorCode.CONFIG, `$${variable} is not a decimal id`);
  }
  return Number(text);
}

/** Reads `$CVM_CDB_DOMAINS`: unset, empty or 0 is off, 1 is on. */
function parseDomains(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "0") return false;
  if (value === "1") return true;
  throw new CvmError(ErrorCode.CONFIG, "$CVM_CDB_DOMAINS must be 0 or 1");
}

/** The facts of a line; an empty id field takes the default, else it is malformed. */
function lineFacts(
  line: AccountLine,
  defaults: { uid?: number; gid?: number },
  domains: boolean,
): Facts | CvmError {
  const uid = line.uid === "" ? defaults.uid : Number(line.uid);
  const gid = line.gid === "" ? defaults.gid : Number(line.gid);
  if (uid === undefined || gid === undefined) {
    return new CvmError(
      ErrorCode.BAD_MODDATA,
      "an empty user or group id, and no $CVM_CDB_UID or $CVM_CDB_GID",
    );
  }
  const facts: Facts = {
    username: line.name,
    userid: uid,
    groupid: gid,
    realname: line.gecos.split(",")[0],
    directory: line.home,
    shell: line.shell,
  };
  const mailbox = extraMailbox(line.extra, line.home);
  if (mailbox !== undefined) facts.mailbox = mailbox;
  const at = line.name.lastIndexOf("@");
  if (domains && at >= 0) facts.domain = line.name.slice(at + 1);
  return facts;
}

/** The stored passwords of a cdb's records, in order. */
function* storedPasswords(cdb: Cdb): Generator<string> {
  for (const [, value] of cdb.entries()) {
    const line = parseAccountLine(decoder.decode(value));
    if (line) yield line.password;
  }
}

/**
 * Makes the cvm-cdb backend from the environment.
 *
 * @param env `CVM_CDB_PATH` (required), `CVM_CDB_PWCMP`, `CVM_CDB_DOMAINS`,
 *   `CVM_CDB_UID`, `CVM_CDB_GID`, `CVM_REHASH`.
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
  if (form === "scheme") {
    throw new CvmError(
      ErrorCode.CONFIG,
      "$CVM_CDB_PWCMP=scheme is not available yet",
    );
  }
  const domains = parseDomains(env.CVM_CDB_DOMAINS);
  const defaults = {
    uid: defaultId(env, "CVM_CDB_UID"),
    gid: defaultId(env, "CVM_CDB_GID"),
  };
  const rehasher: Rehasher | undefined = rehasherFromEnv(
    "cvm-cdb",
    env,
    form,
    "CVM_CDB_PWCMP",
  );
  const makeCache = () =>
    new CachedFile(path, (read) => {
      if (!read.ok) throw unreadable(read.error);
      try {
        return Cdb.fromBytes(read.bytes);
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
  const find = (key: string): Uint8Array | undefined =>
    context.persistent
      ? cache.get().get(key)
      : onDisk((file) => cdbFileGet(file, key));
  // The dummy hash follows the store's own: the first one in it.
  const decoy = new CryptDecoy(() => {
    if (context.persistent) return firstHash(storedPasswords(cache.get()));
    const first = onDisk(cdbFileFirst);
    const line = first && parseAccountLine(decoder.decode(first[1]));
    return line ? firstHash([line.password]) : undefined;
  });
  const store = (account: CdbAccount, value: string) =>
    updateAccountStore(path, (accounts) => {
      const now = accounts.get(account.key);
      const line = now === undefined ? undefined : parseAccountLine(now);
      // Only where the value that matched is still stored: a password
      // changed meanwhile (or a concurrent login's upgrade) stands.
      if (line?.password !== account.line.password) return false;
      accounts.set(
        account.key,
        formatAccountLine({ ...line, password: value }),
      );
      return true;
    }, { lockTimeoutMs: 2000 });

  return {
    lookup(request: ModuleRequest) {
      const name = domains && request.domain !== ""
        ? `${request.account}@${request.domain}`
        : request.account;
      const key = accountKey(name);
      const data = find(key);
      const line = data === undefined
        ? undefined
        : parseAccountLine(decoder.decode(data));
      if (data !== undefined && line === undefined) {
        throw new CvmError(
          ErrorCode.BAD_MODDATA,
          "the account's value in $CVM_CDB_PATH is not a passwd-format line",
        );
      }
      // An empty password field is no account, as in cvm-pwfile.
      if (line === undefined || line.password === "") {
        return Promise.resolve(undefined);
      }
      return Promise.resolve({
        key,
        line,
        facts: lineFacts(line, defaults, domains),
      });
    },
    async authenticate(account, request) {
      const stored = account.line.password;
      if (!(await checkPassword(form, request, stored, decoy))) return false;
      if (account.facts instanceof CvmError) throw account.facts;
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
      if (form === "crypt") await decoy.reject(request.password);
    },
    results(account): Facts {
      if (account.facts instanceof CvmError) throw account.facts;
      return account.facts;
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
