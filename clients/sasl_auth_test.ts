/**
 * sasl-auth-test: drives the SASL library over stdin/stdout the way an
 * SMTP server does, to try a configuration by hand or from a script.
 *
 * ```
 * sasl-auth-test                          print the AUTH capability line
 * sasl-auth-test MECHANISM [RESPONSE]     run one exchange
 * sasl-auth-test "MECHANISM RESPONSE"     the same, from an AUTH argument
 * ```
 *
 * Challenges go to stdout as `334 BASE64` lines (CRLF), responses are read
 * from stdin as base64 lines (`*` cancels). The exchange ends with one
 * reply line: `235 Authentication succeeded.` or the library's failure
 * reply (e.g. `501 Authentication failed.`); the library logs the outcome
 * on stderr (`sasl-auth-test: SASL AUTH PLAIN username=bob`). The exit
 * status is the SASL result code (0 success, 1 failed, 2 unknown
 * mechanism, 3 temporary failure, 6 initial response not allowed, 7 bad
 * response, 8 end of input).
 *
 * @module
 */

import { FatalError, type Invocation, writeStdout } from "../program.ts";
import {
  LineReader,
  saslAuth1,
  saslAuth2,
  saslAuthMessage,
  saslCaps,
  SaslCode,
  type SaslIo,
} from "./sasl.ts";

/**
 * The sasl-auth-test program.
 *
 * @param invocation Name, arguments, environment.
 * @returns The exit status: the SASL result code.
 * @example
 * ```ts
 * import { saslAuthTestMain } from "./sasl_auth_test.ts";
 * // Deno.exit(await saslAuthTestMain({ name: "sasl-auth-test", args: ["PLAIN"], env }));
 * ```
 */
export async function saslAuthTestMain(
  invocation: Invocation,
): Promise<number> {
  const { args, env, name } = invocation;
  if (args.length > 2) {
    throw new FatalError(
      1,
      `usage: ${name} [MECHANISM [INITIAL-RESPONSE]]`,
    );
  }
  if (args.length === 0) {
    const caps = saslCaps(env);
    if (caps === undefined) return 1;
    writeStdout(`${caps}\r\n`);
    return 0;
  }
  const reader = new LineReader(Deno.stdin.readable);
  const io: SaslIo = {
    readLine: reader.readLine,
    write: (text) => Promise.resolve(writeStdout(text)),
  };
  const options = { env, program: name, prefix: "334 ", suffix: "\r\n" };
  const { code } = args.length === 1 && args[0].includes(" ")
    ? await saslAuth1(io, args[0], options)
    : await saslAuth2(io, args[0], args[1], options);
  if (code === SaslCode.AUTH_OK) {
    writeStdout("235 Authentication succeeded.\r\n");
  } else {
    const reply = saslAuthMessage(code);
    writeStdout(`${reply.code} ${reply.message}\r\n`);
  }
  return code;
}
