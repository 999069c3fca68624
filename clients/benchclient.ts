/**
 * cvm-benchclient and cvm-v1benchclient: validate COUNT times back to back.
 *
 * @module
 */

import { ErrorCode, errorMessage } from "../protocol/mod.ts";
import { FatalError, type Invocation } from "../program.ts";
import { authenticate, authenticatePassword, v1Credentials } from "./client.ts";

function parseCount(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) === 0) {
    throw new FatalError(1, `Invalid number for count: ${text}`);
  }
  return Number(text);
}

function failed(code: number): FatalError {
  return new FatalError(
    code,
    `Authentication failed, error #${code} (${errorMessage(code)})`,
  );
}

/**
 * `cvm-benchclient COUNT MODULE ACCOUNT DOMAIN [PASSWORD]`; stops with the
 * error code at the first failure.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { benchclientMain } from "./benchclient.ts";
 * import { FatalError } from "../program.ts";
 * // Too few arguments: main.ts prints the usage and exits 1.
 * await assert.rejects(benchclientMain({ name: "cvm-benchclient", args: [], env: {} }),
 *   (e) => e instanceof FatalError && e.status === 1);
 * ```
 */
export async function benchclientMain(invocation: Invocation): Promise<number> {
  const { args, env } = invocation;
  if (args.length !== 4 && args.length !== 5) {
    throw new FatalError(
      1,
      "Too few command-line arguments\nusage: cvm-benchclient count cvmodule account domain\n   or: cvm-benchclient count cvmodule account domain password\n",
    );
  }
  const count = parseCount(args[0]);
  const [, module, account, domain, password] = args;
  for (let i = 0; i < count; i++) {
    const r = await authenticatePassword(module, {
      account,
      domain,
      password,
    }, { env });
    if (r.code !== ErrorCode.OK) throw failed(r.code);
  }
  return 0;
}

/**
 * `cvm-v1benchclient COUNT MODULE ACCOUNT DOMAIN CREDENTIAL [...]` over
 * protocol version 1.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { v1benchclientMain } from "./benchclient.ts";
 * import { FatalError } from "../program.ts";
 * // Too few arguments: main.ts prints the usage and exits 1.
 * await assert.rejects(v1benchclientMain({ name: "cvm-v1benchclient", args: [], env: {} }),
 *   (e) => e instanceof FatalError && e.status === 1);
 * ```
 */
export async function v1benchclientMain(
  invocation: Invocation,
): Promise<number> {
  const { args, env } = invocation;
  if (args.length < 5) {
    throw new FatalError(
      1,
      "usage: cvm-v1benchclient count cvmodule account domain credential [credential ...]\n",
    );
  }
  const count = parseCount(args[0]);
  const [, module, account, domain, ...credentials] = args;
  const tagged = v1Credentials(account, domain, credentials);
  for (let i = 0; i < count; i++) {
    const r = await authenticate(module, tagged, { env, version: 1 });
    if (r.code !== ErrorCode.OK) throw failed(r.code);
  }
  return 0;
}
