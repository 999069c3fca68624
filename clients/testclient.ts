/**
 * cvm-testclient and cvm-v1testclient: validate once and print the facts.
 *
 * @module
 */

import { ErrorCode, errorMessage } from "../protocol/mod.ts";
import {
  FatalError,
  type Invocation,
  writeStderr,
  writeStdout,
} from "../program.ts";
import { authenticate, authenticatePassword, v1Credentials } from "./client.ts";
import { formatFacts } from "./report.ts";

/**
 * `cvm-testclient MODULE ACCOUNT DOMAIN [PASSWORD]`: the account is split
 * at `$CVM_ACCOUNT_SPLIT_CHARS`; facts on stdout (byte for byte as the
 * module sent them); on failure the error on stderr, out-of-scope on
 * stdout, and the code as exit status.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testclientMain } from "./testclient.ts";
 * import { reportFatal } from "../program.ts";
 * // Too few arguments: the usage on stderr, status 1, as main.ts reports it.
 * const status = await testclientMain({
 *   name: "cvm-testclient", args: ["cvm-local:/run/cvm.sock"], env: {},
 * }).catch((e) => reportFatal("cvm-testclient", e));
 * assert.equal(status, 1);
 * ```
 */
export async function testclientMain(invocation: Invocation): Promise<number> {
  const { args, env } = invocation;
  if (args.length !== 3 && args.length !== 4) {
    throw new FatalError(
      1,
      "Incorrect usage.\nusage: cvm-testclient cvmodule account domain\n   or: cvm-testclient cvmodule account domain password\n",
    );
  }
  const [module, account, domain, password] = args;
  const result = await authenticatePassword(module, {
    account,
    domain,
    password,
  }, { env });
  if (result.code !== ErrorCode.OK) {
    writeStderr(
      `${invocation.name}: Authentication failed, error #${result.code} (${
        errorMessage(result.code)
      })\n`,
    );
    if (result.facts.outOfScope !== undefined) {
      writeStdout(`out of scope:     ${result.facts.outOfScope}\n`);
    }
    return result.code;
  }
  writeStdout(formatFacts(result.facts));
  return 0;
}

/**
 * `cvm-v1testclient MODULE ACCOUNT DOMAIN [CREDENTIAL ...]`: the same over
 * protocol version 1, without account splitting, as the reference does.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { v1testclientMain } from "./testclient.ts";
 * import { reportFatal } from "../program.ts";
 * const status = await v1testclientMain({
 *   name: "cvm-v1testclient", args: [], env: {},
 * }).catch((e) => reportFatal("cvm-v1testclient", e));
 * assert.equal(status, 1);
 * ```
 */
export async function v1testclientMain(
  invocation: Invocation,
): Promise<number> {
  const { args, env } = invocation;
  if (args.length < 3) {
    throw new FatalError(
      1,
      "Incorrect usage.\nusage: cvm-testclient cvmodule account domain [credential [credential ...]]\n",
    );
  }
  const [module, account, domain, ...credentials] = args;
  const tagged = v1Credentials(account, domain, credentials);
  const result = await authenticate(module, tagged, { env, version: 1 });
  if (result.code !== ErrorCode.OK) {
    throw new FatalError(
      result.code,
      `Authentication failed, error #${result.code} (${
        errorMessage(result.code)
      })`,
    );
  }
  writeStdout(formatFacts(result.facts));
  return 0;
}
