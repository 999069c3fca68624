/**
 * The cvm-ldap backend: find the account's entry with the service
 * account, check the password by binding as the entry (`bind`) or against
 * its `userPassword` (`compare`), and report the mapped facts. In lookup
 * mode it only searches.
 *
 * @module
 */

import {
  CredentialType,
  CvmError,
  ErrorCode,
  type Facts,
} from "../../protocol/mod.ts";
import { writeStderr } from "../../program.ts";
import { type Backend, type ModuleRequest, Rejection } from "../runtime/mod.ts";
import type { BackendContext } from "../runtime/mod.ts";
import {
  createDirectory,
  type DiagnosticSink,
  type Directory,
} from "./directory.ts";
import { entryFacts, mappedAttributes } from "./fact_map.ts";
import { expandFilter } from "./filter.ts";
import { type LdapSettings, readLdapSettings } from "./settings.ts";
import { isLockedPassword, verifyUserPassword } from "./verify_password.ts";

/** What lookup found: the entry's DN, facts and readable passwords. */
export interface LdapAccount {
  /** The entry's DN (what a user bind binds as). */
  dn: string;
  /** The facts, or why the entry's values cannot be sent (after the password check). */
  facts: Facts | CvmError;
  /** The `userPassword` values the service account could read. */
  passwords: Uint8Array[];
}

/** The most supplementary groups asked for (a reply holds 512 bytes). */
const MAX_GROUPS = 100;

const PASSWORD_ATTRIBUTE = "userPassword";

/** Passwords made only of lock marks, refused without asking the directory. */
const LOCK_MARKS = /^[!*]+$/;

function values(entry: Record<string, unknown>, name: string): unknown[] {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.toLowerCase() === wanted && key !== "dn") {
      return Array.isArray(value) ? value : [value];
    }
  }
  return [];
}

function bytesOf(value: unknown): Uint8Array {
  return typeof value === "string"
    ? new TextEncoder().encode(value)
    : new Uint8Array(value as Uint8Array);
}

/** Strict UTF-8, or undefined: a password that is not text cannot be sent in a bind as it is. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A directory in use, and retired: closed once the requests still using
 * it are done (a reload never cuts an answer short).
 */
class DirectoryInUse {
  readonly directory: Directory;
  #users = 0;
  #retired = false;
  #closed: Promise<void> | undefined;

  constructor(directory: Directory) {
    this.directory = directory;
  }

  async use<T>(work: (directory: Directory) => Promise<T>): Promise<T> {
    this.#users++;
    try {
      return await work(this.directory);
    } finally {
      this.#users--;
      if (this.#retired && this.#users === 0) void this.close();
    }
  }

  /** No new requests; closes now when none is running, else after the last. */
  retire(): Promise<void> {
    this.#retired = true;
    return this.#users === 0 ? this.close() : Promise.resolve();
  }

  close(): Promise<void> {
    return this.#closed ??= this.directory.close();
  }
}

/**
 * Makes the backend from parsed settings and a directory (for tests, any
 * {@linkcode Directory}).
 *
 * @param settings The settings.
 * @param directory Searches and user binds.
 * @param report Where one-time notes for the admin go.
 * @param reopen Makes a fresh directory for `reload()` (SIGHUP), reading
 *   again what the settings read from files; without it, reload keeps the
 *   directory.
 * @returns The backend.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ldapBackend } from "./backend.ts";
 * import { readLdapSettings } from "./settings.ts";
 * import type { Directory } from "./directory.ts";
 * const closed: string[] = [];
 * const directory = (name: string): Directory => ({
 *   search: () => Promise.resolve([]),
 *   userBind: () => Promise.resolve(false),
 *   close: () => {
 *     closed.push(name);
 *     return Promise.resolve();
 *   },
 * });
 * const backend = ldapBackend(
 *   readLdapSettings({ CVM_LDAP_URI: "ldap://127.0.0.1:1", CVM_LDAP_BASE: "dc=x" }),
 *   directory("first"),
 *   () => {},
 *   () => directory("second"),
 * );
 * await backend.reload?.(); // the first directory's connections are dropped
 * assert.deepEqual(closed, ["first"]);
 * await backend.close?.();
 * assert.deepEqual(closed, ["first", "second"]);
 * ```
 */
export function ldapBackend(
  settings: LdapSettings,
  directory: Directory,
  report: DiagnosticSink,
  reopen?: () => Directory,
): Backend<LdapAccount> {
  let current = new DirectoryInUse(directory);
  const noted = new Set<string>();
  const noteOnce = (key: string, line: string) => {
    if (noted.has(key)) return;
    noted.add(key);
    report(line);
  };
  const notFound = () =>
    new Rejection(settings.outOfScope ? 1 : 0, "not found");
  // Compare mode needs the hashes; bind mode reads them when it may, to
  // refuse a locked entry that the server would still let bind.
  const readPasswords = !settings.lookupMode;
  const attributes = [
    ...mappedAttributes(settings.map),
    ...(readPasswords ? [PASSWORD_ATTRIBUTE] : []),
  ];

  // A configuration error found by a request (a refused service
  // password) is said once on stderr, naming the variable.
  const search = async (query: Parameters<Directory["search"]>[0]) => {
    try {
      return await current.use((directory) => directory.search(query));
    } catch (e) {
      if (e instanceof CvmError && e.code === ErrorCode.CONFIG) {
        noteOnce(e.message, e.message);
      }
      throw e;
    }
  };

  const supplementaryGroups = async (
    request: ModuleRequest,
    dn: string,
    facts: Facts,
  ): Promise<number[]> => {
    const groups = settings.groups!;
    const found = await search({
      base: groups.base,
      scope: groups.scope,
      filter: expandFilter(groups.filter, {
        account: request.account,
        user: request.account,
        domain: request.domain,
        username: facts.username,
        dn,
      }),
      attributes: ["gidNumber"],
      sizeLimit: MAX_GROUPS,
    });
    const ids: number[] = [];
    for (const group of found) {
      const text = String(values(group, "gidNumber")[0] ?? "");
      if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) continue;
      if (!ids.includes(Number(text))) ids.push(Number(text));
    }
    return ids;
  };

  return {
    async lookup(request) {
      const raw = (type: number) =>
        request.credentials.find((c) => c.type === type)?.value ??
          new Uint8Array(0);
      const name = raw(CredentialType.ACCOUNT);
      const domain = raw(CredentialType.DOMAIN);
      // A name is non-empty UTF-8 text without NUL; anything else is
      // refused rather than searched for (bytes that are not UTF-8 would
      // be searched as U+FFFD).
      if (
        name.length === 0 ||
        [name, domain].some((bytes) =>
          bytes.includes(0) || utf8(bytes) === undefined
        )
      ) {
        throw notFound();
      }
      const entries = await search({
        base: settings.base,
        scope: settings.scope,
        filter: expandFilter(settings.filter, {
          account: request.account,
          user: request.account,
          domain: request.domain,
        }),
        attributes,
        binaryAttributes: readPasswords ? [PASSWORD_ATTRIBUTE] : [],
        sizeLimit: 2,
      });
      if (entries.length !== 1) {
        if (entries.length > 1) {
          noteOnce(
            "ambiguous",
            "more than one entry matches $CVM_LDAP_FILTER for some names; " +
              "such names are refused (make the filter or $CVM_LDAP_BASE narrower)",
          );
        }
        throw notFound();
      }
      const entry = entries[0];
      const got = entryFacts(entry, settings.map);
      if (!got.ok && got.problem === "missing") {
        noteOnce(
          `missing ${got.attribute}`,
          `entries without ${got.attribute} are not accounts (e.g. ${entry.dn}); see $CVM_LDAP_MAP`,
        );
        throw notFound();
      }
      let facts: Facts | CvmError;
      if (got.ok) {
        facts = got.facts;
        if (settings.groups) {
          facts.suppGroupids = await supplementaryGroups(
            request,
            entry.dn,
            facts,
          );
        }
      } else {
        facts = new CvmError(
          ErrorCode.BAD_MODDATA,
          `${entry.dn}: ${got.attribute} is not a decimal number of at most 32 bits`,
        );
        if (settings.lookupMode) throw facts;
      }
      return {
        dn: entry.dn,
        facts,
        passwords: values(entry, PASSWORD_ATTRIBUTE).map(bytesOf),
      };
    },

    async authenticate(account, request) {
      const password = request.password;
      if (password === undefined || password.length === 0) {
        throw new CvmError(ErrorCode.NOCRED, "no password credential");
      }
      if (account.passwords.some(isLockedPassword)) {
        throw new Rejection(0, "locked");
      }
      let matched = false;
      if (settings.auth === "bind") {
        const text = utf8(password);
        // A directory that keeps a lock mark ("*", "!") as plain text
        // would accept it as the password; the mark is never one.
        matched = text !== undefined && !LOCK_MARKS.test(text) &&
          await current.use((directory) =>
            directory.userBind(account.dn, text)
          );
      } else {
        if (account.passwords.length === 0) {
          noteOnce(
            "no userPassword",
            `no userPassword readable in ${account.dn}: such entries never ` +
              "validate; compare mode needs the service account " +
              "($CVM_LDAP_BINDDN) to read userPassword",
          );
        }
        for (const stored of account.passwords) {
          if (await verifyUserPassword(stored, password)) matched = true;
        }
      }
      // Found and refused: out-of-scope 0, so a chain stops here.
      if (!matched) throw new Rejection(0, "wrong password");
      if (account.facts instanceof CvmError) throw account.facts;
      return true;
    },

    results(account) {
      if (account.facts instanceof CvmError) throw account.facts;
      return account.facts;
    },

    close: () => current.close(),

    // Sync up to the swap: the next request after SIGHUP's log line
    // connects and binds afresh (a changed $CVM_LDAP_BINDPW_FILE or
    // $CVM_LDAP_CA is read again); a reading that fails keeps the old one.
    // deno-lint-ignore require-await
    async reload() {
      if (reopen === undefined) return;
      const old = current;
      current = new DirectoryInUse(reopen());
      return old.retire();
    },
  };
}

/**
 * Makes the cvm-ldap backend from the environment. In server modes it
 * checks the service account and `$CVM_LDAP_BASE` once at start: a
 * refused password is a configuration error then; a server that cannot be
 * reached is not (requests answer IO until it can).
 *
 * @param env The `CVM_LDAP_*` variables (see the README) and `CVM_LOOKUP_SECRET`.
 * @param context Whether connections are kept (server modes).
 * @param report Where notes for the admin go (default: stderr, prefixed
 *   `cvm-ldap: `); they never hold a password.
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import { createLdapBackend } from "./backend.ts";
 * const backend = await createLdapBackend({
 *   CVM_LDAP_URI: "ldap://127.0.0.1:1",
 *   CVM_LDAP_BASE: "ou=people,dc=example,dc=com",
 * }, { persistent: false });
 * await backend.close?.();
 * ```
 */
export async function createLdapBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
  report: DiagnosticSink = (line) => writeStderr(`cvm-ldap: ${line}\n`),
): Promise<Backend<LdapAccount>> {
  const settings = readLdapSettings(env);
  const directory = createDirectory(settings, context.persistent, report);
  if (context.persistent) {
    try {
      await directory.search({
        base: settings.base,
        scope: "base",
        filter: "(objectClass=*)",
        attributes: ["1.1"],
        sizeLimit: 1,
      });
    } catch (e) {
      if (e instanceof CvmError && e.code === ErrorCode.CONFIG) {
        await directory.close();
        throw e;
      }
      // Unreachable now: requests answer IO until a server comes back.
    }
  }
  return ldapBackend(
    settings,
    directory,
    report,
    () => createDirectory(readLdapSettings(env), context.persistent, report),
  );
}
