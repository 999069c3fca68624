/**
 * The system through FFI (libc, libcrypt), each call behind a small typed
 * function: crypt(3), the passwd, shadow and group databases, process
 * identity and exec, descriptors and resource limits. Libraries are opened
 * on first use, so importing this costs nothing until a call is made.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getpwnam } from "./mod.ts";
 * assert.equal(getpwnam("root")?.uid, 0);
 * ```
 *
 * @module
 */
export * from "./crypt.ts";
export * from "./fd.ts";
export * from "./passwd.ts";
export * from "./process.ts";
export * from "./rlimit.ts";
export * from "./stat.ts";
