/**
 * Which entry attribute gives which fact: a documented default for
 * `posixAccount`/`inetOrgPerson` entries, overridden fact by fact with
 * `$CVM_LDAP_MAP`, and the facts read from a found entry.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { Facts } from "../../protocol/mod.ts";

/** The facts an attribute can give, by the names `$CVM_LDAP_MAP` uses. */
export type MappedFact =
  | "username"
  | "userid"
  | "groupid"
  | "directory"
  | "realname"
  | "shell"
  | "groupname"
  | "sys_username"
  | "sys_directory"
  | "domain"
  | "mailbox";

/**
 * Where a fact comes from: an attribute (read case-insensitively, first
 * value), a literal value (written `=value` in the map), or nothing.
 */
export type FactSource =
  | { attribute: string }
  | { literal: string }
  | undefined;

/** Every fact's source. */
export type FactMap = Readonly<Record<MappedFact, FactSource>>;

/** The facts every success must carry. */
export const REQUIRED_FACTS: readonly MappedFact[] = [
  "username",
  "userid",
  "groupid",
  "directory",
];

/**
 * The default map, for `posixAccount` and `inetOrgPerson` entries: `uid`,
 * `uidNumber`, `gidNumber`, `homeDirectory`, `cn` (real name),
 * `loginShell`, and the domain part of `mail`.
 */
export const DEFAULT_FACT_MAP: FactMap = {
  username: { attribute: "uid" },
  userid: { attribute: "uidNumber" },
  groupid: { attribute: "gidNumber" },
  directory: { attribute: "homeDirectory" },
  realname: { attribute: "cn" },
  shell: { attribute: "loginShell" },
  groupname: undefined,
  sys_username: undefined,
  sys_directory: undefined,
  domain: { attribute: "mail" },
  mailbox: undefined,
};

const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;
const DECIMAL_ID = /^[0-9]{1,10}$/;

/**
 * Parses `$CVM_LDAP_MAP`: comma-separated `fact=attribute` pairs over the
 * default map. `fact==value` gives every account that literal value (e.g.
 * `userid==5000` for virtual users); `fact=` sends an optional fact never.
 *
 * @param variable The setting's name, for errors.
 * @param text Its value (unset or empty: the default map).
 * @returns The map.
 * @throws {CvmError} CONFIG naming `variable` for an unknown fact, a bad
 *   attribute name, a required fact left out or a non-numeric literal id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFactMap } from "./fact_map.ts";
 * const map = parseFactMap("CVM_LDAP_MAP", "mailbox=mailMessageStore,userid==5000");
 * assert.deepEqual(map.mailbox, { attribute: "mailMessageStore" });
 * assert.deepEqual(map.userid, { literal: "5000" });
 * ```
 */
export function parseFactMap(
  variable: string,
  text: string | undefined,
): FactMap {
  const map: Record<MappedFact, FactSource> = { ...DEFAULT_FACT_MAP };
  const fail = (why: string) =>
    new CvmError(ErrorCode.CONFIG, `$${variable}: ${why}`);
  for (const pair of (text ?? "").split(",")) {
    if (pair.trim() === "") continue;
    const equals = pair.indexOf("=");
    if (equals < 0) throw fail(`"${pair}" is not fact=attribute`);
    const fact = pair.slice(0, equals).trim().toLowerCase();
    const source = pair.slice(equals + 1).trim();
    if (!Object.hasOwn(DEFAULT_FACT_MAP, fact)) {
      throw fail(
        `unknown fact "${fact}" (known: ${
          Object.keys(DEFAULT_FACT_MAP).join(", ")
        })`,
      );
    }
    const key = fact as MappedFact;
    if (source === "") {
      if (REQUIRED_FACTS.includes(key)) {
        throw fail(`the ${key} fact is required and cannot be left out`);
      }
      map[key] = undefined;
    } else if (source.startsWith("=")) {
      const literal = source.slice(1);
      if ((key === "userid" || key === "groupid") && !validId(literal)) {
        throw fail(`${key} must be a decimal number of at most 32 bits`);
      }
      map[key] = { literal };
    } else if (ATTRIBUTE.test(source)) {
      map[key] = { attribute: source };
    } else {
      throw fail(`"${source}" is not an attribute name`);
    }
  }
  return map;
}

function validId(text: string): boolean {
  return DECIMAL_ID.test(text) && Number(text) <= 0xffffffff;
}

/**
 * The attributes to ask the directory for, to fill the map.
 *
 * @param map The fact map.
 * @returns The attribute names, each once.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_FACT_MAP, mappedAttributes } from "./fact_map.ts";
 * assert.ok(mappedAttributes(DEFAULT_FACT_MAP).includes("uidNumber"));
 * ```
 */
export function mappedAttributes(map: FactMap): string[] {
  const names = new Map<string, string>();
  for (const source of Object.values(map)) {
    if (source && "attribute" in source) {
      names.set(source.attribute.toLowerCase(), source.attribute);
    }
  }
  return [...names.values()];
}

/** An entry's attributes as the client library returns them. */
export type EntryAttributes = Readonly<
  Record<string, string | string[] | Uint8Array | Uint8Array[]>
>;

/** What an entry gives: its facts, or why it cannot be an account. */
export type EntryFacts =
  | { ok: true; facts: Facts }
  | {
    ok: false;
    /** `missing`: a required attribute is absent (the entry is no account); `invalid`: a value is not usable. */
    problem: "missing" | "invalid";
    /** Which attribute, for a diagnostic. */
    attribute: string;
  };

function firstValue(
  entry: EntryAttributes,
  attribute: string,
): string | undefined {
  const wanted = attribute.toLowerCase();
  for (const [name, value] of Object.entries(entry)) {
    if (name.toLowerCase() !== wanted || name === "dn") continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) return undefined;
    return typeof first === "string" ? first : new TextDecoder().decode(first);
  }
  return undefined;
}

/**
 * Reads the facts of a found entry through the map. A required fact
 * whose attribute is absent or empty makes the entry no account
 * (`missing`); a user or group id that is not a decimal number of at most
 * 32 bits is `invalid`. The `domain` fact is the part after the last `@`
 * of its value (all of it when there is none).
 *
 * @param entry The entry's attributes.
 * @param map The fact map.
 * @returns The facts, or the problem.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_FACT_MAP, entryFacts } from "./fact_map.ts";
 * const got = entryFacts({ uid: "bob", uidNumber: "1000", gidNumber: "100",
 *   homeDirectory: "/home/bob", mail: "bob@example.com" }, DEFAULT_FACT_MAP);
 * assert.ok(got.ok);
 * assert.equal(got.facts.domain, "example.com");
 * assert.equal(got.facts.userid, 1000);
 * ```
 */
export function entryFacts(entry: EntryAttributes, map: FactMap): EntryFacts {
  const read = (fact: MappedFact): string | undefined => {
    const source = map[fact];
    if (source === undefined) return undefined;
    return "literal" in source
      ? source.literal
      : firstValue(entry, source.attribute);
  };
  const named = (fact: MappedFact) => {
    const source = map[fact];
    return source && "attribute" in source ? source.attribute : fact;
  };
  for (const fact of REQUIRED_FACTS) {
    const value = read(fact);
    if (value === undefined || value === "") {
      return { ok: false, problem: "missing", attribute: named(fact) };
    }
  }
  for (const fact of ["userid", "groupid"] as const) {
    if (!validId(read(fact)!)) {
      return { ok: false, problem: "invalid", attribute: named(fact) };
    }
  }
  const facts: Facts = {
    username: read("username")!,
    userid: Number(read("userid")),
    groupid: Number(read("groupid")),
    directory: read("directory")!,
  };
  const optional: [MappedFact, keyof Facts][] = [
    ["realname", "realname"],
    ["shell", "shell"],
    ["groupname", "groupname"],
    ["sys_username", "sysUsername"],
    ["sys_directory", "sysDirectory"],
    ["mailbox", "mailbox"],
  ];
  for (const [fact, key] of optional) {
    const value = read(fact);
    if (value !== undefined) {
      (facts as unknown as Record<string, string>)[key] = value;
    }
  }
  const domain = read("domain");
  if (domain !== undefined) {
    facts.domain = domain.slice(domain.lastIndexOf("@") + 1);
  }
  return { ok: true, facts };
}
