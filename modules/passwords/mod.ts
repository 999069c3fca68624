/**
 * Password checking shared by every module that compares passwords: plain
 * text (constant time), crypt(3) through the system's libcrypt, the
 * challenge-response credentials (APOP, CRAM-MD5), the decoy hash that
 * makes an unknown account cost as much as a known one, the registry
 * of Dovecot's `{SCHEME}` password schemes, the passwd-file line layouts
 * (/etc/passwd's and Dovecot's) that file backends read, and upgrade on login
 * (`$CVM_REHASH`): when and what to store instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashPassword, parsePasswordScheme, verifyPassword } from "./mod.ts";
 * assert.equal(parsePasswordScheme("CVM_PWFILE_PWCMP", "crypt"), "crypt");
 * const pw = new TextEncoder().encode("secret");
 * assert.equal(await verifyPassword(await hashPassword("SSHA256", pw), pw), true);
 * ```
 *
 * @module
 */
export * from "./check.ts";
export * from "./crypt_decoy.ts";
export * from "./dovecot_passwd_file.ts";
export * from "./passwd_line.ts";
export * from "./scheme_decoy.ts";
export * from "./registry.ts";
export * from "./rehash.ts";
export type { ChallengeMechanism, HashParams } from "./scheme.ts";
export * from "./cost_defaults.ts";
