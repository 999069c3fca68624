/**
 * cvm-qmail: a lookup-only module that accepts the addresses qmail would
 * deliver. The domain must be in `control/locals` or
 * `control/virtualdomains` (else out-of-scope 1), the local part must
 * reach a user through `users/cdb` or the system accounts, and an address
 * with an extension needs its `.qmail-ext` (or a `-default`) file (else
 * rejected with out-of-scope 0). See `_qmail_lookup.ts` for the settings
 * shared with cvm-vmailmgr, and below for `$CVM_QMAIL_LOOKASIDE` and
 * `$CVM_QMAIL_CHECK_PERMS`.
 *
 * Without `$CVM_LOOKUP_SECRET` every request is a configuration error, as
 * with the reference.
 *
 * @module
 */

import { CvmError, ErrorCode, type Facts } from "../../protocol/mod.ts";
import {
  deliversToLookaside,
  dotfileCandidates,
  type DotfileSearch,
  findDotfile,
  parseLookaside,
  type PermissionPolicy,
} from "./dotfile.ts";
import {
  type QmailAddress,
  qmailFacts,
  qmailOptionsFromEnv,
  QmailResolver,
} from "./lookup.ts";
import { toIdT, withEffectiveIds } from "./perms.ts";
import { type Backend, type ModuleRequest, Rejection } from "../runtime/mod.ts";
import type { BackendContext } from "../runtime/mod.ts";

/** How cvm-qmail checks `.qmail` files. */
export interface DotfileOptions {
  /** `$CVM_QMAIL_LOOKASIDE` split into program names; undefined when unset or empty. */
  lookaside?: string[];
  /** `$CVM_QMAIL_CHECK_PERMS` (non-empty): check as the user; EACCES per policy. */
  checkPerms?: PermissionPolicy;
}

/**
 * Checks that an address has a deliverable `.qmail` file and that it does
 * not hand the mail to a lookaside program.
 *
 * @param address The resolved address.
 * @param options Lookaside programs and permission checking.
 * @throws {Rejection} out-of-scope 0 when no `.qmail` file takes the
 *   extension, out-of-scope 1 when a lookaside program does.
 * @throws {CvmError} IO when a file cannot be checked or read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDotfile } from "./qmail.ts";
 * const home = Deno.makeTempDirSync();
 * const address = { user: "bob", uid: String(Deno.uid()), gid: String(Deno.gid()), home,
 *   dash: "-", ext: "list", rest: "", domain: "example.com" };
 * // No .qmail file takes bob-list: out of scope.
 * assert.throws(() => checkDotfile(address, {}));
 * Deno.writeTextFileSync(`${home}/.qmail-list`, "./Maildir/\n");
 * checkDotfile(address, {}); // delivered: no error
 * Deno.removeSync(home, { recursive: true });
 * ```
 */
export function checkDotfile(
  address: QmailAddress,
  options: DotfileOptions,
): void {
  const names = dotfileCandidates(address.dash, address.ext);
  const search = (): DotfileSearch =>
    findDotfile(address.home, names, options.checkPerms ?? "temporary");
  let found: DotfileSearch;
  if (address.dash === "") {
    // No extension: a missing .qmail is qmail's default delivery. (The
    // reference crashes into a temporary error here when a lookaside list
    // is set; reading .qmail when it exists is what it means to do.)
    if (options.lookaside === undefined) return;
    found = search();
    if (!found.found) return;
  } else {
    found = options.checkPerms === undefined
      ? search()
      : withEffectiveIds(toIdT(address.uid), toIdT(address.gid), search);
    if (!found.found) throw new Rejection(0, "no .qmail file for the address");
  }
  if (
    options.lookaside !== undefined &&
    deliversToLookaside(found.path, options.lookaside)
  ) {
    throw new Rejection(1, "delivered by a lookaside program");
  }
}

/**
 * Makes the cvm-qmail backend from the environment.
 *
 * @param env `QMAIL_ROOT`, `CVM_LOOKUP_SECRET` (required), the
 *   `CVM_QMAIL_*` settings.
 * @param _context Unused: every request checks the files it needs.
 * @returns The backend.
 * @example
 * ```ts
 * import { createQmailBackend } from "./qmail.ts";
 * createQmailBackend({ CVM_LOOKUP_SECRET: "", QMAIL_ROOT: "/var/qmail" }, { persistent: false });
 * ```
 */
export function createQmailBackend(
  env: Record<string, string | undefined>,
  _context: BackendContext,
): Backend<QmailAddress> {
  const qmailOptions = qmailOptionsFromEnv(env);
  let resolver = new QmailResolver(qmailOptions);
  const lookasideText = env.CVM_QMAIL_LOOKASIDE;
  const checkPermsText = env.CVM_QMAIL_CHECK_PERMS;
  const dotfile: DotfileOptions = {
    lookaside: lookasideText ? parseLookaside(lookasideText) : undefined,
    checkPerms: checkPermsText
      ? (checkPermsText.startsWith("-") ? "reject" : "temporary")
      : undefined,
  };
  const lookupMode = env.CVM_LOOKUP_SECRET !== undefined;
  return {
    // deno-lint-ignore require-await
    async lookup(request: ModuleRequest) {
      if (!lookupMode) {
        throw new CvmError(
          ErrorCode.CONFIG,
          "cvm-qmail only works in lookup mode",
        );
      }
      const address = resolver.resolve(request.account, request.domain);
      checkDotfile(address, dotfile);
      return address;
    },
    authenticate() {
      // Never called in lookup mode, the only mode cvm-qmail works in.
      return Promise.resolve(false);
    },
    results(address): Facts {
      return {
        username: address.user,
        userid: 0,
        groupid: 0,
        directory: address.home,
        raw: qmailFacts({
          username: address.user,
          uid: address.uid,
          gid: address.gid,
          directory: address.home,
          sysUsername: address.user,
          sysDirectory: address.home,
          domain: address.domain,
          mailbox: address.home,
        }),
      };
    },
    reload() {
      resolver = new QmailResolver(qmailOptions); // fresh file caches
      return Promise.resolve();
    },
  };
}
