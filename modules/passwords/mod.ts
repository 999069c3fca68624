/**
 * Password checking shared by every module that compares passwords: plain
 * text (constant time), crypt(3) through the system's libcrypt, the
 * challenge-response credentials (APOP, CRAM-MD5), and the decoy hash that
 * makes an unknown account cost as much as a known one; and upgrade on
 * login (`$CVM_REHASH`): when and what to store instead.
 *
 * @example
 * ```ts
 * import { parsePasswordScheme } from "./mod.ts";
 * parsePasswordScheme("CVM_PWFILE_PWCMP", "crypt"); // "crypt"
 * ```
 *
 * @module
 */
export * from "./check.ts";
export * from "./crypt_decoy.ts";
export * from "./rehash.ts";
