/**
 * Runs a synchronous check with another effective user and group id, as
 * cvm-qmail does for `$CVM_QMAIL_CHECK_PERMS` (setresgid/setresuid on the
 * effective ids only, restored afterwards). glibc applies the change to
 * every thread of the process, so the callback must not await anything.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import { getegid, geteuid, setegid, seteuid } from "../../sys/mod.ts";

/**
 * Reduces a decimal id (possibly wider than 32 bits) to a uid_t/gid_t, as
 * a C cast does.
 *
 * @param id The id as decimal text.
 * @returns The id modulo 2^32.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toIdT } from "./perms.ts";
 * assert.equal(toIdT("4294967297"), 1);
 * ```
 */
export function toIdT(id: string): number {
  return Number(BigInt.asUintN(32, BigInt(id)));
}

/**
 * Calls `check` with the effective group and user ids switched to `gid`
 * and `uid`, then switches back (also when `check` throws).
 *
 * @param uid The user id to take on.
 * @param gid The group id to take on.
 * @param check A synchronous function (no awaiting inside).
 * @returns What `check` returned.
 * @throws {CvmError} IO when the ids cannot be switched (not privileged).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withEffectiveIds } from "./perms.ts";
 * assert.equal(withEffectiveIds(0, 0, () => Deno.statSync("/")).isDirectory, true);
 * ```
 */
export function withEffectiveIds<T>(
  uid: number,
  gid: number,
  check: () => T,
): T {
  const euid = geteuid();
  const egid = getegid();
  const failed = (e: unknown) =>
    new CvmError(ErrorCode.IO, (e as Error).message);
  try {
    setegid(gid);
  } catch (e) {
    throw failed(e);
  }
  try {
    seteuid(uid);
  } catch (e) {
    restore(() => setegid(egid));
    throw failed(e);
  }
  try {
    return check();
  } finally {
    restore(() => seteuid(euid));
    restore(() => setegid(egid));
  }
}

/** Switching back to ids we had cannot be refused; nothing to report if it were. */
function restore(switchBack: () => void): void {
  try {
    switchBack();
  } catch { /* see above */ }
}
