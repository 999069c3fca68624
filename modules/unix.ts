/**
 * cvm-unix: the system's accounts through libc (getpwnam, the shadow entry,
 * getgrgid, getgrouplist), so files, LDAP and SSSD accounts all work, with
 * passwords checked by crypt(3).
 *
 * @module
 */

import { CvmError, ErrorCode } from "../protocol/mod.ts";
import type { Facts } from "../protocol/mod.ts";
import type { Backend } from "./runtime/mod.ts";
import { CryptDecoy, firstHash } from "./passwords/mod.ts";
import { checkPassword } from "./passwords/mod.ts";

/** What cvm-unix found for an account. */
export interface UnixAccount {
  /** The login name. */
  name: string;
  /** The crypt(3) hash: the shadow entry's when there is one. */
  hash: string;
  /** The user id. */
  uid: number;
  /** The primary group id. */
  gid: number;
  /** The GECOS field. */
  gecos: string;
  /** The home directory. */
  dir: string;
  /** The login shell. */
  shell: string;
}

/** Runs an NSS lookup; a failing name service is a temporary error. */
function nss<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw new CvmError(ErrorCode.IO, `${what}: ${(e as Error).message}`);
  }
}

/**
 * Makes the cvm-unix backend. It has no settings.
 *
 * @returns The backend.
 * @example
 * ```ts
 * import { createUnixBackend } from "./unix.ts";
 * const backend = await createUnixBackend();
 * ```
 */
export async function createUnixBackend(): Promise<Backend<UnixAccount>> {
  const { getgrgid, getgrouplist, getpwnam, getspnam, shadowPasswords } =
    await import("../sys/mod.ts");
  // The dummy hash follows the system's: the first usable shadow entry.
  const decoy = new CryptDecoy(() => firstHash(shadowPasswords()));
  return {
    lookup(request) {
      const pw = nss("getpwnam", () => getpwnam(request.account));
      if (pw === undefined) return Promise.resolve(undefined);
      const shadow = nss("getspnam", () => getspnam(pw.name));
      return Promise.resolve({
        name: pw.name,
        hash: shadow ?? pw.passwd,
        uid: pw.uid,
        gid: pw.gid,
        gecos: pw.gecos,
        dir: pw.dir,
        shell: pw.shell,
      });
    },
    authenticate(account, request) {
      return checkPassword("crypt", request, account.hash, decoy);
    },
    async decoy(request) {
      await decoy.reject(request.password);
    },
    results(account): Facts {
      const group = nss("getgrgid", () => getgrgid(account.gid));
      return {
        suppGroupids: nss(
          "getgrouplist",
          () => getgrouplist(account.name, account.gid),
        ),
        username: account.name,
        userid: account.uid,
        groupid: account.gid,
        realname: account.gecos.split(",")[0],
        directory: account.dir,
        shell: account.shell,
        groupname: group?.name,
      };
    },
  };
}
