/**
 * Resolves an address the way qmail delivers it, shared by cvm-qmail,
 * cvm-vmailmgr and cvm-vchkpw: the domain through `control/locals` and
 * `control/virtualdomains` (with the `$CVM_QMAIL_ASSUME_LOCAL` and
 * `$CVM_QMAIL_MISSINGDOMAIN` fallbacks), the local part through
 * `users/cdb` or the system accounts.
 *
 * @module
 */

import {
  asciiLower,
  FactType,
  type Tagged,
  toBytes,
} from "../../protocol/mod.ts";
import { QmailControl } from "./control.ts";
import { type QmailUser, QmailUsers } from "./users.ts";
import { Rejection } from "../runtime/mod.ts";

/** The environment settings of the qmail lookup. */
export interface QmailOptions {
  /** `$QMAIL_ROOT` (default /var/qmail; empty means the file system root). */
  root: string;
  /** `$CVM_QMAIL_ASSUME_LOCAL` is set (even empty). */
  assumeLocal: boolean;
  /** `$CVM_QMAIL_MISSINGDOMAIN` (empty means "localhost"), undefined when unset. */
  missingDomain?: string;
  /** `$CVM_QMAIL_MISSINGUSER`, default (also when empty) "alias". */
  missingUser: string;
}

/**
 * Reads the qmail lookup settings from an environment.
 *
 * @param env The environment.
 * @returns The settings.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qmailOptionsFromEnv } from "./lookup.ts";
 * assert.equal(qmailOptionsFromEnv({ QMAIL_ROOT: "/var/qmail" }).missingUser, "alias");
 * ```
 */
export function qmailOptionsFromEnv(
  env: Record<string, string | undefined>,
): QmailOptions {
  const missing = env.CVM_QMAIL_MISSINGDOMAIN;
  return {
    root: env.QMAIL_ROOT ?? "/var/qmail",
    assumeLocal: env.CVM_QMAIL_ASSUME_LOCAL !== undefined,
    missingDomain: missing === undefined ? undefined : missing || "localhost",
    missingUser: env.CVM_QMAIL_MISSINGUSER || "alias",
  };
}

/** Where an address is delivered. */
export interface QmailAddress extends QmailUser {
  /** The domain fact: the domain, or the virtualdomains key that matched it. */
  domain: string;
}

/**
 * The qmail address resolver of one qmail root; control files and
 * users/cdb are re-read when they change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmailResolver, qmailOptionsFromEnv } from "./lookup.ts";
 * import { makeCdb } from "../cdb/mod.ts";
 * const root = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${root}/control`);
 * Deno.mkdirSync(`${root}/users`);
 * Deno.writeTextFileSync(`${root}/control/locals`, "example.com\n");
 * // An exact users/cdb record: !local NUL → user uid gid home dash ext.
 * Deno.writeFileSync(`${root}/users/cdb`,
 *   makeCdb([["!bob\0", "bob\x001000\x00100\x00/home/bob\x00\x00\x00"]]));
 * const resolver = new QmailResolver(qmailOptionsFromEnv({ QMAIL_ROOT: root }));
 * const address = resolver.resolve("bob", "example.com");
 * Deno.removeSync(root, { recursive: true });
 * assert.equal(address.user, "bob");
 * assert.equal(address.uid, "1000");
 * assert.equal(address.home, "/home/bob");
 * assert.equal(address.domain, "example.com");
 * ```
 */
export class QmailResolver {
  /** The settings in force. */
  readonly options: QmailOptions;
  readonly #control: QmailControl;
  readonly #users: QmailUsers;

  /**
   * @param options The settings.
   */
  constructor(options: QmailOptions) {
    this.options = options;
    this.#control = new QmailControl(options.root);
    this.#users = new QmailUsers(options.root);
  }

  /**
   * Resolves an address to its user and extension.
   *
   * @param account The local part as sent.
   * @param domain The domain as sent ("" when none: the envnoathost host).
   * @param noUserScope The out-of-scope value when no user takes the
   *   local part (cvm-qmail says 0, cvm-vmailmgr 1).
   * @returns Where it is delivered.
   * @throws {Rejection} out-of-scope 1 for a domain that is not qmail's,
   *   `noUserScope` when no user takes the local part.
   * @throws {CvmError} IO when a file or the account database fails.
   */
  resolve(account: string, domain: string, noUserScope = 0): QmailAddress {
    const host = domain === ""
      ? this.#control.envnoathost()
      : asciiLower(domain);
    let local: string;
    let domainFact: string;
    if (this.#control.isLocal(host)) {
      local = account;
      domainFact = host;
    } else {
      const virtual = this.#control.virtualdomain(host);
      if (virtual !== undefined) {
        local = virtual.prefix === ""
          ? account
          : `${virtual.prefix}-${account}`;
        domainFact = virtual.key;
      } else if (this.options.assumeLocal) {
        local = account;
        domainFact = host;
      } else if (this.options.missingDomain !== undefined) {
        local = this.options.missingUser;
        domainFact = this.options.missingDomain;
      } else {
        throw new Rejection(1, "domain is not handled by qmail");
      }
    }
    const user = this.#users.lookup(local);
    if (user === undefined) throw new Rejection(noUserScope, "no such user");
    return { ...user, domain: domainFact };
  }
}

/**
 * The facts of a qmail account in the reference's order, with the ids as
 * written (users/cdb ids can exceed what a JavaScript number holds).
 *
 * @param facts Username, ids, directory and the optional facts.
 * @returns The tagged facts for a response.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qmailFacts } from "./lookup.ts";
 * assert.equal(qmailFacts({ username: "bob", uid: "1000", gid: "100", directory: "/home/bob" }).length, 4);
 * ```
 */
export function qmailFacts(facts: {
  username: string;
  uid: string;
  gid: string;
  directory: string;
  realname?: string;
  sysUsername?: string;
  sysDirectory?: string;
  domain?: string;
  mailbox?: string;
}): Tagged[] {
  const out: Tagged[] = [];
  const add = (type: number, value: string | undefined) => {
    if (value !== undefined) out.push({ type, value: toBytes(value) });
  };
  add(FactType.USERNAME, facts.username);
  add(FactType.USERID, facts.uid);
  add(FactType.GROUPID, facts.gid);
  add(FactType.REALNAME, facts.realname);
  add(FactType.DIRECTORY, facts.directory);
  add(FactType.SYS_USERNAME, facts.sysUsername);
  add(FactType.SYS_DIRECTORY, facts.sysDirectory);
  add(FactType.DOMAIN, facts.domain);
  add(FactType.MAILBOX, facts.mailbox);
  return out;
}
