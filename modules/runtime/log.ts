/**
 * The one-line log records of server modes, for multilog: `Starting.`,
 * `Stopping.`, and `+`/`-`/`?` followed by the account per request.
 *
 * @module
 */

import { ErrorCode } from "../../protocol/mod.ts";

/**
 * Where log lines go; stdout in the programs, an array in tests. A sink
 * that holds lines back for a moment (see {@linkcode stdoutLog}) says when
 * they are out with `written`; a server awaits it before it sends a reply.
 */
export type LogSink = ((line: string) => void) & {
  /** Settles once every line given so far has been written. */
  written?: () => Promise<void>;
};

/** The most bytes one write of coalesced lines carries (one line is at most ~1 KiB). */
const BATCH_BYTES = 16 * 1024;

/**
 * A sink writing to stdout (for multilog), in order and never lost: the
 * lines given while the same turn of the event loop's work is running are
 * written together, in one `write(2)`, when that work is done (a
 * microtask); `written()` settles after that write, so that a server can
 * send each reply after its line. Lines not yet written are written before
 * the process exits (`unload`), and at once by `flush()`.
 *
 * @param write Writes some bytes, returns how many (default: stdout's).
 * @returns The sink, with `flush()` to write what is held at once.
 * @example
 * ```ts
 * import { stdoutLog } from "./log.ts";
 * const log = stdoutLog();
 * log("Starting.");
 * await log.written(); // the line is out
 * ```
 */
export function stdoutLog(
  write: (bytes: Uint8Array) => number = (b) => Deno.stdout.writeSync(b),
): LogSink & { written: () => Promise<void>; flush: () => void } {
  const encoder = new TextEncoder();
  let buffer = new Uint8Array(BATCH_BYTES);
  let held = 0;
  let batch: Promise<void> | undefined;
  const writeAll = (bytes: Uint8Array) => {
    let at = 0;
    while (at < bytes.length) at += write(bytes.subarray(at));
  };
  const flush = () => {
    batch = undefined;
    if (held === 0) return;
    const bytes = buffer.subarray(0, held);
    held = 0;
    writeAll(bytes);
  };
  const sink = (line: string) => {
    // Room for the line's UTF-8 (at most 3 bytes a UTF-16 unit) and "\n".
    const most = line.length * 3 + 1;
    if (held + most > buffer.length) {
      flush();
      if (most > buffer.length) buffer = new Uint8Array(most);
    }
    held += encoder.encodeInto(line, buffer.subarray(held)).written;
    buffer[held++] = 0x0a;
    // Written when this turn's work is done: a server waiting on
    // `written()` sends its reply only after the line is out (and none
    // when the write fails; a line nobody waits on fails quietly).
    if (batch === undefined) {
      batch = Promise.resolve().then(flush);
      batch.catch(() => {});
    }
  };
  // Out before the process ends: on exit, and on an uncaught error.
  for (const event of ["unload", "error", "unhandledrejection"]) {
    globalThis.addEventListener(event, () => {
      try {
        flush();
      } catch { /* stdout is gone: nothing more can be said */ }
    });
  }
  return Object.assign(sink, {
    written: () => batch ?? Promise.resolve(),
    flush,
  });
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
 * import assert from "node:assert/strict";
 * import { requestLogLine } from "./log.ts";
 * assert.equal(requestLogLine(0, "bob", "example.com"), "+ bob@example.com");
 * assert.equal(requestLogLine(100, "bob", "example.com", ["192.0.2.1"]), "- bob@example.com 192.0.2.1");
 * assert.equal(requestLogLine(100, "x 6.6.6.6", undefined, []), "- x?6.6.6.6");
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
