/**
 * The environment a successful validation hands to the next program, as
 * cvm-checkpassword sets it (the reference's `cvm_client_setenv`); the
 * SASL library sets the same for the server that calls it.
 *
 * @module
 */

import type { ClientFacts } from "../protocol/mod.ts";

/**
 * The environment the next program gets: `USER HOME SHELL UID GID`, and
 * `NAME GROUP DOMAIN MAIL MAILBOX MAILDIR` where the fact came back. Values
 * are exact text as the facts are (`toExactText`): a fact that is not UTF-8
 * reaches the next program as the bytes the module sent.
 *
 * @param env The current environment.
 * @param facts The facts of the successful validation.
 * @returns The new environment.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpasswordEnv } from "./facts_env.ts";
 * const env = checkpasswordEnv({ PATH: "/bin" }, {
 *   all: [], username: "bob", userid: 1, groupid: 2, directory: "/h",
 * });
 * assert.deepEqual(env, {
 *   PATH: "/bin", USER: "bob", UID: "1", GID: "2", HOME: "/h",
 * });
 * // A Latin-1 fact stays exact text: execve gives the child its bytes.
 * const latin = checkpasswordEnv({}, {
 *   all: [], username: "jos\uDCE9", userid: 1, groupid: 2, directory: "/h",
 * });
 * assert.equal(latin.USER, "jos\uDCE9");
 * ```
 */
export function checkpasswordEnv(
  env: Record<string, string | undefined>,
  facts: ClientFacts,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out.USER = facts.username ?? "";
  out.UID = String(facts.userid);
  out.GID = String(facts.groupid);
  out.HOME = facts.directory ?? "";
  if (facts.shell !== undefined) out.SHELL = facts.shell;
  if (facts.realname !== undefined) out.NAME = facts.realname;
  if (facts.groupname !== undefined) out.GROUP = facts.groupname;
  if (facts.domain !== undefined) out.DOMAIN = facts.domain;
  if (facts.mailbox !== undefined) {
    out.MAIL = out.MAILBOX = out.MAILDIR = facts.mailbox;
  }
  return out;
}
