/**
 * Admin commands of `cvm` itself over the password schemes: `cvm pw` (a
 * `{SCHEME}` hash, as `doveadm pw`), `cvm cdbpasswd` (cvm-cdb's accounts),
 * and the password prompt they share (a terminal without echo, or one line
 * of stdin).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pwMain } from "./mod.ts";
 * assert.equal(await pwMain(["-l"]), 0); // the scheme names on stdout
 * ```
 *
 * @module
 */
export * from "./cdbpasswd.ts";
export * from "./pw.ts";
export * from "./read_password.ts";
