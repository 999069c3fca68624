/**
 * The one-line log records of server modes, for multilog: `Starting.`,
 * `Stopping.`, and `+`/`-`/`?` followed by the account per request.
 *
 * @module
 */

import { ErrorCode } from "../../protocol/mod.ts";

/** Where log lines go; stdout in the programs, an array in tests. */
export type LogSink = (line: string) => void;

/**
 * A sink writing each line to stdout at once (unbuffered, for multilog).
 *
 * @returns The sink.
 * @example
 * ```ts
 * import { stdoutLog } from "./log.ts";
 * const log = stdoutLog();
 * log("Starting.");
 * ```
 */
export function stdoutLog(): LogSink {
  const encoder = new TextEncoder();
  return (line) => {
    const bytes = encoder.encode(line + "\n");
    let at = 0;
    while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
  };
}

/** Control characters would let an account name forge log lines. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, "?");
}

/**
 * The log line for one answered request: `+` success, `-` rejected, `?`
 * anything else, then the account and `@domain` when a domain was sent. The
 * password never appears.
 *
 * @param code The result code sent.
 * @param account The account name ("" when the request was unreadable).
 * @param domain The domain, or undefined when none was sent.
 * @param words Words the policy layers add (the client address, `stale`).
 *   When given, even empty, a space in the account or domain prints as `?`
 *   too, so that no name can pass for a word (fail2ban reads the last one).
 * @returns The line.
 * @example
 * ```ts
 * import { requestLogLine } from "./log.ts";
 * requestLogLine(0, "bob", "example.com"); // "+ bob@example.com"
 * requestLogLine(100, "bob", "example.com", ["192.0.2.1"]); // "- bob@example.com 192.0.2.1"
 * requestLogLine(100, "x 6.6.6.6", undefined, []); // "- x?6.6.6.6"
 * ```
 */
export function requestLogLine(
  code: number,
  account: string,
  domain: string | undefined,
  words?: readonly string[],
): string {
  const mark = code === ErrorCode.OK
    ? "+"
    : code === ErrorCode.PERMFAIL
    ? "-"
    : "?";
  const safe = words === undefined
    ? printable
    : (text: string) => printable(text).replaceAll(" ", "?");
  const who = domain === undefined
    ? safe(account)
    : `${safe(account)}@${safe(domain)}`;
  if (words === undefined || words.length === 0) return `${mark} ${who}`;
  return `${mark} ${who} ${words.map(printable).join(" ")}`;
}
