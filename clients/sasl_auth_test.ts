/**
 * sasl-auth-test: runs one SASL exchange through the library, the way the
 * upstream cvm test suite drives it.
 *
 * ```
 * sasl-auth-test "MECHANISM [INITIAL-RESPONSE]"
 * ```
 *
 * It takes exactly one argument, the AUTH command's string; anything else
 * is a usage error (exit 1). Every run starts with the capability line on
 * stderr (`sasl-auth-test: AUTH LOGIN PLAIN`); with no mechanism
 * configured it dies there. Challenges go to stdout as `+ BASE64` lines
 * (CRLF), the IMAP and POP3 form; responses are read from stdin as base64
 * lines (`*` cancels). A success prints nothing more: the library's log
 * line on stderr says who logged in (`sasl-auth-test: SASL AUTH PLAIN
 * username=bob`). A failure dies with exit status 1:
 *
 * ```
 * sasl-auth-test: Fatal: sasl_auth1 failed: 8
 *   535 End of file reached.
 * ```
 *
 * where 8 is the SASL code and the second line the reply a server would
 * send.
 *
 * @module
 */

import {
  FatalError,
  type Invocation,
  writeStderr,
  writeStdout,
} from "../program.ts";
import {
  LineReader,
  saslAuth1,
  saslAuthMessage,
  saslCaps,
  SaslCode,
  SaslFraming,
} from "./sasl/mod.ts";

/**
 * The sasl-auth-test program.
 *
 * @param invocation Name, arguments, environment.
 * @returns 0 after a success.
 * @throws {FatalError} 1 for a usage error, no mechanism, or a failed exchange.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslAuthTestMain } from "./sasl_auth_test.ts";
 * const status = await saslAuthTestMain({
 *   name: "sasl-auth-test",
 *   args: ["PLAIN"],
 *   env: {},
 * }).catch((e) => e.status);
 * assert.equal(status, 1); // no mechanism is configured
 * ```
 */
export async function saslAuthTestMain(
  invocation: Invocation,
): Promise<number> {
  const { args, env, name } = invocation;
  if (args.length !== 1) throw new FatalError(1, `usage: ${name} string`);
  const caps = saslCaps(env);
  if (caps === undefined) throw new FatalError(1, "sasl_auth_cap failed");
  writeStderr(`${name}: ${caps}\n`);
  const reader = new LineReader(Deno.stdin.readable);
  const { code } = await saslAuth1(
    {
      readLine: reader.readLine,
      write: (text) => Promise.resolve(writeStdout(text)),
    },
    args[0],
    { env, program: name, ...SaslFraming.IMAP },
  );
  if (code !== SaslCode.AUTH_OK) {
    const reply = saslAuthMessage(code);
    throw new FatalError(
      1,
      `sasl_auth1 failed: ${code}\n  ${reply.code} ${reply.message}`,
    );
  }
  return 0;
}
