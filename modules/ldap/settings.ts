/**
 * cvm-ldap's settings from the environment, each checked at start: a bad
 * value is a configuration error (CONFIG) whose message names the
 * variable.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { SearchScope } from "./connection.ts";
import { type FactMap, parseFactMap } from "./fact_map.ts";
import {
  compileFilter,
  DEFAULT_FILTER,
  type FilterTemplate,
} from "./filter.ts";
import { type LdapEndpoint, parseLdapUris } from "./uri.ts";

/** How a password is checked: a bind as the entry, or a local comparison. */
export type LdapAuthMode = "bind" | "compare";

/** The variables the account filter may use. */
export const ACCOUNT_FILTER_VARIABLES = ["account", "user", "domain"] as const;

/** The variables the group filter may use. */
export const GROUP_FILTER_VARIABLES = [
  "account",
  "user",
  "domain",
  "username",
  "dn",
] as const;

/** The group filter used when only `$CVM_LDAP_GROUP_BASE` is set. */
export const DEFAULT_GROUP_FILTER =
  "(&(objectClass=posixGroup)(memberUid=$username))";

/** The seconds each operation may take when `$CVM_LDAP_TIMEOUT` is unset. */
export const DEFAULT_TIMEOUT_SECONDS = 5;

/** The optional search for supplementary groups. */
export interface GroupSearch {
  /** Where to search. */
  base: string;
  /** How deep. */
  scope: SearchScope;
  /** The filter template. */
  filter: FilterTemplate;
}

/** Everything cvm-ldap reads from the environment. */
export interface LdapSettings {
  /** The servers, tried in order. */
  endpoints: LdapEndpoint[];
  /** The service account's DN; undefined searches anonymously. */
  bindDn?: string;
  /** The service account's password. */
  bindPassword?: string;
  /** The variable the password came from, for the error when it is refused. */
  bindPasswordVariable: string;
  /** Where accounts are searched. */
  base: string;
  /** How deep. */
  scope: SearchScope;
  /** The account filter. */
  filter: FilterTemplate;
  /** How passwords are checked. */
  auth: LdapAuthMode;
  /** StartTLS on `ldap://` connections. */
  startTls: boolean;
  /** PEM certificates to trust, read at start. */
  ca?: Uint8Array;
  /** Each operation's deadline, in milliseconds. */
  timeoutMs: number;
  /** Which attribute gives which fact. */
  map: FactMap;
  /** The supplementary group search, when configured. */
  groups?: GroupSearch;
  /** An account not found answers out-of-scope 1 instead of 0. */
  outOfScope: boolean;
  /** Lookup mode (`$CVM_LOOKUP_SECRET` set): search only. */
  lookupMode: boolean;
}

type Env = Record<string, string | undefined>;

function config(message: string): CvmError {
  return new CvmError(ErrorCode.CONFIG, message);
}

function set(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function flag(env: Env, name: string): boolean {
  const value = set(env, name);
  if (value === undefined || value === "0") return false;
  if (value === "1") return true;
  throw config(`$${name} must be 0 or 1`);
}

/**
 * Reads a scope: `base`, `one` (or `onelevel`) or `sub` (or `subtree`).
 *
 * @param name The variable, for errors.
 * @param value Its value (unset: `sub`).
 * @returns The scope.
 * @throws {CvmError} CONFIG naming the variable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseScope } from "./settings.ts";
 * assert.equal(parseScope("CVM_LDAP_SCOPE", "one"), "one");
 * assert.equal(parseScope("CVM_LDAP_SCOPE", undefined), "sub");
 * ```
 */
export function parseScope(
  name: string,
  value: string | undefined,
): SearchScope {
  switch ((value ?? "").toLowerCase()) {
    case "":
    case "sub":
    case "subtree":
      return "sub";
    case "one":
    case "onelevel":
      return "one";
    case "base":
      return "base";
  }
  throw config(`$${name} must be base, one or sub`);
}

/**
 * Reads `$CVM_LDAP_TIMEOUT`: seconds, fractions allowed, more than 0 and
 * at most an hour.
 *
 * @param value Its value (unset: 5 seconds).
 * @returns Milliseconds.
 * @throws {CvmError} CONFIG naming the variable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeout } from "./settings.ts";
 * assert.equal(parseTimeout("0.5"), 500);
 * assert.equal(parseTimeout(undefined), 5000);
 * ```
 */
export function parseTimeout(value: string | undefined): number {
  if (value === undefined || value === "") {
    return DEFAULT_TIMEOUT_SECONDS * 1000;
  }
  const seconds = /^[0-9]{1,4}(\.[0-9]{1,3})?$/.test(value)
    ? Number(value)
    : NaN;
  if (!(seconds > 0 && seconds <= 3600)) {
    throw config(
      "$CVM_LDAP_TIMEOUT must be a number of seconds (e.g. 2 or 0.5), above 0 and at most 3600",
    );
  }
  return Math.round(seconds * 1000);
}

/** The service password, from `$CVM_LDAP_BINDPW` or the file `$CVM_LDAP_BINDPW_FILE`. */
function bindPassword(env: Env): { value?: string; variable: string } {
  const direct = env.CVM_LDAP_BINDPW;
  const file = set(env, "CVM_LDAP_BINDPW_FILE");
  if (direct !== undefined && direct !== "" && file !== undefined) {
    throw config("set only one of $CVM_LDAP_BINDPW and $CVM_LDAP_BINDPW_FILE");
  }
  if (file === undefined) {
    return { value: direct || undefined, variable: "CVM_LDAP_BINDPW" };
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw config(
      `$CVM_LDAP_BINDPW_FILE: cannot read ${file} (${
        (e as { code?: string }).code ?? "error"
      })`,
    );
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "" || value.includes("\n")) {
    throw config(
      `$CVM_LDAP_BINDPW_FILE: ${file} must hold the password on one line`,
    );
  }
  return { value, variable: "CVM_LDAP_BINDPW_FILE" };
}

function readCa(env: Env): Uint8Array | undefined {
  const path = set(env, "CVM_LDAP_CA");
  if (path === undefined) return undefined;
  let pem: Uint8Array;
  try {
    pem = Deno.readFileSync(path);
  } catch (e) {
    throw config(
      `$CVM_LDAP_CA: cannot read ${path} (${(e as Error).name})`,
    );
  }
  if (!new TextDecoder().decode(pem).includes("-----BEGIN CERTIFICATE-----")) {
    throw config(`$CVM_LDAP_CA: ${path} holds no PEM certificate`);
  }
  return pem;
}

/**
 * Reads and checks every cvm-ldap variable.
 *
 * @param env The environment.
 * @returns The settings.
 * @throws {CvmError} CONFIG whose message names the variable that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLdapSettings } from "./settings.ts";
 * const s = readLdapSettings({
 *   CVM_LDAP_URI: "ldap://ldap1 ldap://ldap2",
 *   CVM_LDAP_BASE: "ou=people,dc=example,dc=com",
 * });
 * assert.equal(s.endpoints.length, 2);
 * assert.equal(s.auth, "bind");
 * ```
 */
export function readLdapSettings(env: Env): LdapSettings {
  const endpoints = parseLdapUris("CVM_LDAP_URI", env.CVM_LDAP_URI);
  const base = set(env, "CVM_LDAP_BASE");
  if (base === undefined) throw config("$CVM_LDAP_BASE is not set");
  const bindDn = set(env, "CVM_LDAP_BINDDN");
  const password = bindPassword(env);
  // A DN with an empty password is an unauthenticated bind, which a
  // server accepts as anonymous: never let that pass for a login.
  if (bindDn !== undefined && password.value === undefined) {
    throw config(
      "$CVM_LDAP_BINDDN is set but neither $CVM_LDAP_BINDPW nor $CVM_LDAP_BINDPW_FILE is",
    );
  }
  if (bindDn === undefined && password.value !== undefined) {
    throw config(`$${password.variable} is set but $CVM_LDAP_BINDDN is not`);
  }
  const authText = set(env, "CVM_LDAP_AUTH") ?? "bind";
  if (authText !== "bind" && authText !== "compare") {
    throw config("$CVM_LDAP_AUTH must be bind or compare");
  }
  const groupBase = set(env, "CVM_LDAP_GROUP_BASE");
  const groupFilter = set(env, "CVM_LDAP_GROUP_FILTER");
  const groups = groupBase === undefined && groupFilter === undefined
    ? undefined
    : {
      base: groupBase ?? base,
      scope: parseScope(
        "CVM_LDAP_GROUP_SCOPE",
        set(env, "CVM_LDAP_GROUP_SCOPE"),
      ),
      filter: compileFilter(
        "CVM_LDAP_GROUP_FILTER",
        groupFilter ?? DEFAULT_GROUP_FILTER,
        GROUP_FILTER_VARIABLES,
      ),
    };
  return {
    endpoints,
    bindDn,
    bindPassword: password.value,
    bindPasswordVariable: password.variable,
    base,
    scope: parseScope("CVM_LDAP_SCOPE", set(env, "CVM_LDAP_SCOPE")),
    filter: compileFilter(
      "CVM_LDAP_FILTER",
      set(env, "CVM_LDAP_FILTER") ?? DEFAULT_FILTER,
      ACCOUNT_FILTER_VARIABLES,
    ),
    auth: authText,
    startTls: flag(env, "CVM_LDAP_STARTTLS"),
    ca: readCa(env),
    timeoutMs: parseTimeout(env.CVM_LDAP_TIMEOUT),
    map: parseFactMap("CVM_LDAP_MAP", env.CVM_LDAP_MAP),
    groups,
    outOfScope: flag(env, "CVM_LDAP_OUTOFSCOPE"),
    lookupMode: env.CVM_LOOKUP_SECRET !== undefined,
  };
}
