/**
 * The standard facts as a typed record, and their conversion to and from the
 * tagged list on the wire, in the reference's order.
 *
 * @module
 */

import { ErrorCode, FactType } from "./codes.ts";
import { toBytes, toExactText, toText } from "./text.ts";
import type { Parsed, Tagged } from "./types.ts";

/** The facts about an account that a module reports on success. */
export interface Facts {
  /** The login name (fact 1). */
  username: string;
  /** The user id (fact 2). */
  userid: number;
  /** The group id (fact 3). */
  groupid: number;
  /** The home directory (fact 5). */
  directory: string;
  /** The real name (fact 4). */
  realname?: string;
  /** The login shell (fact 6). */
  shell?: string;
  /** The primary group's name (fact 7). */
  groupname?: string;
  /** The system user name, for virtual users (fact 9). */
  sysUsername?: string;
  /** The system home directory, for virtual users (fact 10). */
  sysDirectory?: string;
  /** The domain of the validated account (fact 14). */
  domain?: string;
  /** The mailbox path, relative to the directory unless absolute (fact 15). */
  mailbox?: string;
  /** Supplementary group ids (fact 8, repeated). */
  suppGroupids?: number[];
  /** Any other facts, sent before the standard ones. */
  extra?: Tagged[];
  /** When set, exactly these facts are sent and the fields above are ignored (a proxy such as cvm-chain passes its answer on unchanged). */
  raw?: Tagged[];
}

const OPTIONAL: ReadonlyArray<[keyof Facts, number]> = [
  ["groupname", FactType.GROUPNAME],
  ["sysUsername", FactType.SYS_USERNAME],
  ["sysDirectory", FactType.SYS_DIRECTORY],
  ["domain", FactType.DOMAIN],
  ["mailbox", FactType.MAILBOX],
];

function tag(type: number, value: string | number): Tagged {
  return { type, value: toBytes(String(value)) };
}

/**
 * Turns facts into the tagged list a response carries, in the order the
 * reference sends them: supplementary groups and extra facts first, then
 * username, user id, group id, real name, directory, shell, group name,
 * system user name, system directory, domain, mailbox (optional ones only
 * when set, an empty string counting as set).
 *
 * @param facts The facts.
 * @returns The tagged list.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFacts } from "./facts.ts";
 * assert.equal(encodeFacts({ username: "a", userid: 1, groupid: 2, directory: "/" }).length, 4);
 * ```
 */
export function encodeFacts(facts: Facts): Tagged[] {
  if (facts.raw) return [...facts.raw];
  const out: Tagged[] = [];
  for (const gid of facts.suppGroupids ?? []) {
    out.push(tag(FactType.SUPP_GROUPID, gid));
  }
  out.push(...(facts.extra ?? []));
  out.push(tag(FactType.USERNAME, facts.username));
  out.push(tag(FactType.USERID, facts.userid));
  out.push(tag(FactType.GROUPID, facts.groupid));
  if (facts.realname !== undefined) {
    out.push(tag(FactType.REALNAME, facts.realname));
  }
  out.push(tag(FactType.DIRECTORY, facts.directory));
  if (facts.shell !== undefined) out.push(tag(FactType.SHELL, facts.shell));
  for (const [key, type] of OPTIONAL) {
    const value = facts[key];
    if (value !== undefined) out.push(tag(type, value as string));
  }
  return out;
}

/**
 * Parses a decimal fact value as the reference's clients do, but strictly:
 * digits only, within 32 bits.
 *
 * @param value The raw fact bytes.
 * @returns The number, or undefined when it is not a decimal number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDecimal } from "./facts.ts";
 * assert.equal(parseDecimal(new TextEncoder().encode("1000")), 1000);
 * ```
 */
export function parseDecimal(value: Uint8Array): number | undefined {
  const text = toText(value);
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

/** Facts as a client reads them: the standard record plus out-of-scope and the raw list. */
export interface ClientFacts extends Partial<Facts> {
  /** The out-of-scope fact, when the module sent one. */
  outOfScope?: number;
  /** Every fact as received, in order. */
  all: Tagged[];
}

/**
 * Reads the tagged facts of a response into a record, each text fact as
 * exact text (`toExactText`: a Latin-1 name or directory keeps its bytes
 * for `toBytes`, as the reference's clients print and export them). With
 * `requireAccount` (for a success) the username, user id, group id and
 * directory must be present and the ids decimal, else BAD_MODDATA.
 *
 * @param tagged The facts from the wire.
 * @param requireAccount Whether the required facts must be there.
 * @returns The record, or BAD_MODDATA.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFacts } from "./facts.ts";
 * import { toBytes } from "./text.ts";
 * assert.equal(decodeFacts([], false).ok, true);
 * assert.equal(decodeFacts([], true).ok, false); // no username, ids, directory
 * const latin = Uint8Array.of(0x6a, 0x6f, 0x73, 0xe9); // "jos\xe9", not UTF-8
 * const got = decodeFacts([{ type: 1, value: latin }], false);
 * assert.ok(got.ok);
 * assert.equal(got.value.username, "jos\uDCE9");
 * assert.deepEqual(toBytes(got.value.username!), latin);
 * ```
 */
export function decodeFacts(
  tagged: readonly Tagged[],
  requireAccount: boolean,
): Parsed<ClientFacts> {
  const facts: ClientFacts = { all: [...tagged] };
  const bad = (reason: string) => ({
    ok: false as const,
    code: ErrorCode.BAD_MODDATA,
    reason,
  });
  for (const { type, value } of tagged) {
    switch (type) {
      case FactType.USERNAME:
        facts.username ??= toExactText(value);
        break;
      case FactType.USERID:
      case FactType.GROUPID:
      case FactType.SUPP_GROUPID:
      case FactType.OUTOFSCOPE: {
        const n = parseDecimal(value);
        if (n === undefined) {
          if (requireAccount || type === FactType.OUTOFSCOPE) {
            return bad(`fact ${type} is not a number`);
          }
          break;
        }
        if (type === FactType.USERID) facts.userid ??= n;
        else if (type === FactType.GROUPID) facts.groupid ??= n;
        else if (type === FactType.OUTOFSCOPE) facts.outOfScope ??= n;
        else (facts.suppGroupids ??= []).push(n);
        break;
      }
      case FactType.REALNAME:
        facts.realname ??= toExactText(value);
        break;
      case FactType.DIRECTORY:
        facts.directory ??= toExactText(value);
        break;
      case FactType.SHELL:
        facts.shell ??= toExactText(value);
        break;
      case FactType.GROUPNAME:
        facts.groupname ??= toExactText(value);
        break;
      case FactType.SYS_USERNAME:
        facts.sysUsername ??= toExactText(value);
        break;
      case FactType.SYS_DIRECTORY:
        facts.sysDirectory ??= toExactText(value);
        break;
      case FactType.DOMAIN:
        facts.domain ??= toExactText(value);
        break;
      case FactType.MAILBOX:
        facts.mailbox ??= toExactText(value);
        break;
    }
  }
  if (requireAccount) {
    if (facts.username === undefined) return bad("no username fact");
    if (facts.userid === undefined) return bad("no user id fact");
    if (facts.groupid === undefined) return bad("no group id fact");
    if (facts.directory === undefined) return bad("no directory fact");
  }
  return { ok: true, value: facts };
}
