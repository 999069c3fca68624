/**
 * Runs a synchronous check with another effective user and group id, as
 * cvm-qmail does for `$CVM_QMAIL_CHECK_PERMS` (setresgid/setresuid on the
 * effective ids only, restored afterwards). glibc applies the change to
 * every thread of the process, so the callback must not await anything.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../protocol/mod.ts";
import { errno, lazy } from "../sys/ffi.ts";

const libc = lazy(() =>
  Deno.dlopen("libc.so.6", {
    setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
    setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
    geteuid: { parameters: [], result: "u32" },
    getegid: { parameters: [], result: "u32" },
  })
);

/** "Leave this id unchanged" for setres[ug]id. */
const KEEP = 0xffffffff;

/**
 * Reduces a decimal id (possibly wider than 32 bits) to a uid_t/gid_t, as
 * a C cast does.
 *
 * @param id The id as decimal text.
 * @returns The id modulo 2^32.
 * @example
 * ```ts
 * import { toIdT } from "./_qmail_perms.ts";
 * toIdT("4294967297"); // 1
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
 * import { withEffectiveIds } from "./_qmail_perms.ts";
 * withEffectiveIds(0, 0, () => Deno.statSync("/")).isDirectory; // true
 * ```
 */
export function withEffectiveIds<T>(
  uid: number,
  gid: number,
  check: () => T,
): T {
  const { symbols } = libc();
  const euid = symbols.geteuid();
  const egid = symbols.getegid();
  if (symbols.setresgid(KEEP, gid, KEEP) !== 0) {
    throw new CvmError(ErrorCode.IO, `setresgid failed (errno ${errno()})`);
  }
  if (symbols.setresuid(KEEP, uid, KEEP) !== 0) {
    const e = errno();
    symbols.setresgid(KEEP, egid, KEEP);
    throw new CvmError(ErrorCode.IO, `setresuid failed (errno ${e})`);
  }
  try {
    return check();
  } finally {
    symbols.setresuid(KEEP, euid, KEEP);
    symbols.setresgid(KEEP, egid, KEEP);
  }
}
