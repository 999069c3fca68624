/**
 * cvm-deno as a library: the CVM client (validate credentials with a module
 * or a chain of modules over command, local-socket or UDP transports) and
 * the wire protocol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authenticatePassword, ErrorCode, isTemporary } from "./mod.ts";
 * const result = await authenticatePassword("cvm-local:/nonexistent/cvm-unix.sock", {
 *   account: "bob@example.com",
 *   password: "secret",
 * });
 * if (result.code === ErrorCode.OK) console.log(result.facts.directory);
 * // Nothing listens there: a temporary failure, at once.
 * assert.equal(isTemporary(result.code), true);
 * ```
 *
 * @module
 */
export {
  authenticate,
  authenticatePassword,
  type ClientOptions,
  type ClientResult,
  type PasswordCredentials,
  splitAccount,
  ucspiDomain,
} from "./clients/mod.ts";
export { type ModuleAddress, parseModuleAddress } from "./protocol/mod.ts";
export * from "./protocol/mod.ts";
