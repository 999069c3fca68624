/**
 * Account and group lookups through libc's NSS (so files, LDAP and SSSD
 * accounts all work), using the reentrant `*_r` calls.
 *
 * Layouts are glibc's on 64-bit Linux (checked with offsetof on Debian 12).
 *
 * @module
 */

import { cString, errnoError, lazy, readCString, readPointer } from "./ffi.ts";

/** One entry of the passwd database (`struct passwd`). */
export interface PasswdEntry {
  /** The login name. */
  name: string;
  /** The password field (often `x`, meaning: see the shadow entry). */
  passwd: string;
  /** The user id. */
  uid: number;
  /** The primary group id. */
  gid: number;
  /** The GECOS field, unsplit. */
  gecos: string;
  /** The home directory. */
  dir: string;
  /** The login shell. */
  shell: string;
}

/** One entry of the group database (`struct group`), members left out. */
export interface GroupEntry {
  /** The group name. */
  name: string;
  /** The group id. */
  gid: number;
}

// The *_r calls take (key, struct*, char *buf, size_t buflen, struct **result).
const R_CALL = {
  parameters: ["buffer", "buffer", "buffer", "usize", "buffer"],
  result: "i32",
} as const;
const R_CALL_ID = {
  parameters: ["u32", "buffer", "buffer", "usize", "buffer"],
  result: "i32",
} as const;

const libc = lazy(() =>
  Deno.dlopen("libc.so.6", {
    getpwnam_r: R_CALL,
    getpwuid_r: R_CALL_ID,
    getspnam_r: R_CALL,
    setspent: { parameters: [], result: "void" },
    getspent_r: {
      parameters: ["buffer", "buffer", "usize", "buffer"],
      result: "i32",
    },
    endspent: { parameters: [], result: "void" },
    getgrnam_r: R_CALL,
    getgrgid_r: R_CALL_ID,
    getgrouplist: {
      parameters: ["buffer", "u32", "buffer", "buffer"],
      result: "i32",
    },
  })
);

const PASSWD_SIZE = 48;
const SPWD_SIZE = 72;
const GROUP_SIZE = 32;

const ERANGE = 34;
const NGROUPS_MAX = 65536;
// Beyond this a "too small" answer is a broken NSS module, not a big entry.
const MAX_BUFFER = 1 << 24;
// Return values the man pages list as "no such entry" rather than failure:
// 0, EPERM, ENOENT, ESRCH, EBADF.
const NOT_FOUND = new Set([0, 1, 2, 3, 9]);

type RCall = (
  struct: Uint8Array<ArrayBuffer>,
  buf: Uint8Array<ArrayBuffer>,
  size: bigint,
  result: BigUint64Array<ArrayBuffer>,
) => number;

// Runs one *_r call, growing the string buffer on ERANGE. Returns the parsed
// struct, or undefined when there is no such entry; throws on a
// real lookup failure (e.g. EIO from an unreachable directory server) so
// callers can answer with a temporary error instead of "no such user".
function lookup<T>(
  what: string,
  structSize: number,
  call: RCall,
  parse: (struct: DataView) => T,
): T | undefined {
  for (let size = 1024;; size *= 2) {
    const struct = new Uint8Array(structSize);
    const buf = new Uint8Array(size);
    const result = new BigUint64Array(1);
    const rc = call(struct, buf, BigInt(size), result);
    if (rc === ERANGE && size < MAX_BUFFER) continue;
    if (readPointer(result) !== null) {
      // The struct's string pointers point into `buf`, alive in this scope.
      return parse(new DataView(struct.buffer));
    }
    if (NOT_FOUND.has(rc)) return undefined;
    throw errnoError(what, rc);
  }
}

function stringAt(struct: DataView, offset: number): string {
  return readCString(
    Deno.UnsafePointer.create(struct.getBigUint64(offset, true)),
  );
}

function parsePasswd(s: DataView): PasswdEntry {
  return {
    name: stringAt(s, 0),
    passwd: stringAt(s, 8),
    uid: s.getUint32(16, true),
    gid: s.getUint32(20, true),
    gecos: stringAt(s, 24),
    dir: stringAt(s, 32),
    shell: stringAt(s, 40),
  };
}

function parseGroup(s: DataView): GroupEntry {
  return { name: stringAt(s, 0), gid: s.getUint32(16, true) };
}

/**
 * Looks up a user by name (getpwnam_r).
 *
 * @param name The login name.
 * @returns The entry, or undefined when there is no such user; throws when the lookup itself fails.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getpwnam } from "./passwd.ts";
 * assert.equal(getpwnam("root")?.dir, "/root");
 * ```
 */
export function getpwnam(name: string): PasswdEntry | undefined {
  const key = cString(name);
  if (key === undefined) return undefined;
  return lookup(
    `getpwnam_r(${name})`,
    PASSWD_SIZE,
    (s, b, n, r) => libc().symbols.getpwnam_r(key, s, b, n, r),
    parsePasswd,
  );
}

/**
 * Looks up a user by id (getpwuid_r).
 *
 * @param uid The user id.
 * @returns The entry, or undefined when no user has that id; throws when the lookup itself fails.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getpwuid } from "./passwd.ts";
 * assert.equal(getpwuid(0)?.name, "root");
 * ```
 */
export function getpwuid(uid: number): PasswdEntry | undefined {
  return lookup(
    `getpwuid_r(${uid})`,
    PASSWD_SIZE,
    (s, b, n, r) => libc().symbols.getpwuid_r(uid, s, b, n, r),
    parsePasswd,
  );
}

/**
 * Reads a user's encrypted password from the shadow database (getspnam_r).
 *
 * @param name The login name.
 * @returns The encrypted password, or undefined when the user has no shadow entry; throws when the lookup fails (e.g. EACCES when not allowed to read it).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getspnam } from "./passwd.ts";
 * // Root's hash (e.g. "$y$j9T$..." or "*") when run as root; others may not read it.
 * if (Deno.uid() === 0) assert.equal(typeof getspnam("root"), "string");
 * assert.equal(getspnam("no-such-user-here"), undefined);
 * ```
 */
export function getspnam(name: string): string | undefined {
  const key = cString(name);
  if (key === undefined) return undefined;
  return lookup(
    `getspnam_r(${name})`,
    SPWD_SIZE,
    (s, b, n, r) => libc().symbols.getspnam_r(key, s, b, n, r),
    (s) => stringAt(s, 8), // sp_pwdp follows sp_namp
  );
}

/**
 * Walks the shadow database (setspent, getspent_r, endspent) and yields
 * each entry's encrypted password, in the database's order; stopping
 * early ends the walk.
 *
 * @returns The passwords, e.g. `*`, `!`, `$y$j9T$…`; throws when the walk
 *   fails (e.g. EACCES when not allowed to read it).
 * @example
 * ```ts
 * import { shadowPasswords } from "./passwd.ts";
 * for (const hash of shadowPasswords()) if (hash.startsWith("$")) break;
 * ```
 */
export function* shadowPasswords(): Generator<string> {
  const calls = libc().symbols;
  calls.setspent();
  try {
    while (true) {
      const hash = lookup(
        "getspent_r",
        SPWD_SIZE,
        (s, b, n, r) => calls.getspent_r(s, b, n, r),
        (s) => stringAt(s, 8),
      );
      if (hash === undefined) return;
      yield hash;
    }
  } finally {
    calls.endspent();
  }
}

/**
 * Looks up a group by id (getgrgid_r).
 *
 * @param gid The group id.
 * @returns The group's name and id, or undefined when there is no such group; throws when the lookup fails.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getgrgid } from "./passwd.ts";
 * assert.equal(getgrgid(0)?.name, "root");
 * ```
 */
export function getgrgid(gid: number): GroupEntry | undefined {
  return lookup(
    `getgrgid_r(${gid})`,
    GROUP_SIZE,
    (s, b, n, r) => libc().symbols.getgrgid_r(gid, s, b, n, r),
    parseGroup,
  );
}

/**
 * Looks up a group by name (getgrnam_r).
 *
 * @param name The group name.
 * @returns The group's name and id, or undefined when there is no such group; throws when the lookup fails.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getgrnam } from "./passwd.ts";
 * assert.equal(getgrnam("root")?.gid, 0);
 * ```
 */
export function getgrnam(name: string): GroupEntry | undefined {
  const key = cString(name);
  if (key === undefined) return undefined;
  return lookup(
    `getgrnam_r(${name})`,
    GROUP_SIZE,
    (s, b, n, r) => libc().symbols.getgrnam_r(key, s, b, n, r),
    parseGroup,
  );
}

/**
 * Lists the groups a user belongs to (getgrouplist), as libc orders them.
 *
 * @param user The login name.
 * @param gid The primary group id, always included (first, with glibc).
 * @returns The group ids.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getgrouplist } from "./passwd.ts";
 * assert.equal(getgrouplist("root", 0)[0], 0); // [0, ...]
 * ```
 */
export function getgrouplist(user: string, gid: number): number[] {
  const key = cString(user);
  if (key === undefined) return [gid];
  const count = new Int32Array([64]);
  for (;;) {
    const room = count[0];
    const groups = new Uint32Array(room);
    // Returns -1 and sets `count` to the number needed when `groups` is short.
    if (libc().symbols.getgrouplist(key, gid, groups, count) >= 0) {
      return [...groups.subarray(0, count[0])];
    }
    // Always grow, even if a module reported no larger need; past the
    // kernel's NGROUPS_MAX a larger list could not be used anyway.
    if (room >= NGROUPS_MAX) throw errnoError(`getgrouplist(${user})`, ERANGE);
    count[0] = Math.min(Math.max(count[0], room * 2), NGROUPS_MAX);
  }
}
