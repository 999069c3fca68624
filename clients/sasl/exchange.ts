/**
 * A whole SASL exchange over a text protocol (SMTP, IMAP, POP3): the
 * framing of challenges, the reading of base64 responses and cancels, the
 * drivers for an AUTH command (`saslAuth1`, `saslAuth2`), and the log line
 * naming who succeeded or failed.
 *
 * @module
 */

import { writeStderr } from "../../program.ts";
import { decodeBase64Line, encodeBase64 } from "./base64.ts";
import { SaslCode } from "./codes.ts";
import { type SaslOptions, SaslState } from "./state.ts";
import { logText } from "./_text.ts";

/**
 * How the text protocols frame a challenge: the prefix before the base64
 * text and the suffix after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SaslFraming } from "./exchange.ts";
 * assert.equal(SaslFraming.IMAP.prefix, "+ ");
 * ```
 */
export const SaslFraming = {
  /** SMTP: `334 BASE64` CRLF. */
  SMTP: { prefix: "334 ", suffix: "\r\n" },
  /** IMAP: `+ BASE64` CRLF. */
  IMAP: { prefix: "+ ", suffix: "\r\n" },
  /** POP3: `+ BASE64` CRLF, as IMAP. */
  POP3: { prefix: "+ ", suffix: "\r\n" },
} as const;

/** How an exchange talks to the client. */
export interface SaslIo {
  /** Reads one response line; undefined at the end of input. */
  readLine(): Promise<string | undefined>;
  /** Writes (and flushes) text to the client. */
  write(text: string): Promise<void>;
}

/** Framing and settings of a text-protocol exchange. */
export interface SaslAuthOptions extends SaslOptions {
  /** Written before each base64 challenge, e.g. "334 " (SMTP) or "+ " (IMAP); default "". */
  prefix?: string;
  /** Written after each challenge; default "\r\n". */
  suffix?: string;
}

/** The outcome of an exchange. */
export interface SaslResult {
  /** A {@link SaslCode}: AUTH_OK, or why it failed. */
  code: number;
  /** The state: user name and facts after a success. */
  state: SaslState;
}

/** `username=… [sys_username=…] [domain=…]`, each value made log-safe. */
function whoText(
  username: string | Uint8Array,
  sysUsername: string | undefined,
  domain: string | undefined,
): string {
  let text = `username=${logText(username)}`;
  if (sysUsername !== undefined) {
    text += ` sys_username=${logText(sysUsername)}`;
  }
  if (domain) text += ` domain=${logText(domain)}`;
  return text;
}

/**
 * Runs a whole SASL exchange over a text protocol, for a command like
 * SMTP's `AUTH mechanism [initial-response]`, logging the outcome as the
 * upstream does after its release 0.97: `SASL AUTH PLAIN username=bob` (with
 * `sys_username=` and `domain=` when the module said so), `SASL AUTH PLAIN
 * failed username=bob domain=example.com` (the name the client gave, the
 * ucspi local domain), `SASL AUTH LOGIN failed, no username`, `SASL AUTH
 * FOO failed: no such mechanism`. Names are cut at a NUL, and bytes outside
 * 32–127 are written as `?`.
 *
 * @param io Reads responses, writes challenges.
 * @param mechanism The mechanism the client asked for.
 * @param initialResponse The base64 initial response, if any.
 * @param options Framing, environment, log.
 * @returns The code and the state.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslAuth2, SaslFraming } from "./exchange.ts";
 * const io = { readLine: () => Promise.resolve(undefined), write: () => Promise.resolve() };
 * const env = {}; // no $CVM_SASL_PLAIN: no mechanism
 * const { code } = await saslAuth2(io, "LOGIN", undefined, { ...SaslFraming.SMTP, env, log: () => {} });
 * assert.equal(code, 2); // NO_MECH
 * ```
 */
export async function saslAuth2(
  io: SaslIo,
  mechanism: string,
  initialResponse: string | undefined,
  options: SaslAuthOptions = {},
): Promise<SaslResult> {
  const log = options.log ??
    ((line: string) =>
      writeStderr(`${options.program ?? "sasl-auth-test"}: ${line}\n`));
  const state = new SaslState(options);
  const said = `SASL AUTH ${logText(mechanism)}`;
  let initial: Uint8Array | undefined;
  if (initialResponse !== undefined) {
    initial = decodeBase64Line(initialResponse);
    if (initial === undefined) {
      log(`${said} failed: bad response`);
      return { code: SaslCode.RESP_BAD, state };
    }
  }
  let step = await state.start(mechanism, initial);
  while (step.code === SaslCode.CHALLENGE) {
    await io.write(
      `${options.prefix ?? ""}${encodeBase64(step.challenge!)}${
        options.suffix ?? "\r\n"
      }`,
    );
    const line = await io.readLine();
    if (line === undefined) {
      step = { code: SaslCode.RESP_EOF };
      break;
    }
    if (line === "" || line.startsWith("*")) {
      log(`${said} failed: aborted`);
      step = { code: SaslCode.AUTH_FAILED };
      break;
    }
    const response = decodeBase64Line(line);
    if (response === undefined) {
      log(`${said} failed: bad response`);
      step = { code: SaslCode.RESP_BAD };
      break;
    }
    step = await state.respond(response);
  }
  if (step.code === SaslCode.AUTH_OK) {
    const facts = state.facts;
    log(
      `${said} ${
        whoText(facts?.username ?? "", facts?.sysUsername, facts?.domain)
      }`,
    );
  } else if (step.code === SaslCode.NO_MECH) {
    log(`${said} failed: no such mechanism`);
  } else if (state.triedUsername.length > 0) {
    // Who failed, for fail2ban and the admin: the name as the client gave
    // it, and the local domain it was tried in.
    log(
      `${said} failed ${whoText(state.triedUsername, undefined, state.domain)}`,
    );
  } else {
    log(`${said} failed, no username`);
  }
  return { code: step.code, state };
}

/**
 * Runs an exchange from the argument of an AUTH command: the mechanism up
 * to the first space, then (after any further spaces) the initial response.
 *
 * @param io Reads responses, writes challenges.
 * @param argument E.g. "PLAIN AGJvYgBzZWNyZXQ=".
 * @param options Framing, environment, log.
 * @returns The code and the state.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslAuth1, SaslFraming } from "./exchange.ts";
 * const io = { readLine: () => Promise.resolve(undefined), write: () => Promise.resolve() };
 * const env = { CVM_SASL_PLAIN: "/usr/bin/cvm-pwfile" };
 * const { code } = await saslAuth1(io, "LOGIN", { ...SaslFraming.IMAP, env, log: () => {} });
 * assert.equal(code, 8); // RESP_EOF: the client sent no user name
 * ```
 */
export function saslAuth1(
  io: SaslIo,
  argument: string,
  options: SaslAuthOptions = {},
): Promise<SaslResult> {
  const space = argument.indexOf(" ");
  if (space < 0) return saslAuth2(io, argument, undefined, options);
  let rest = space + 1;
  while (argument[rest] === " ") rest++;
  return saslAuth2(
    io,
    argument.slice(0, space),
    argument.slice(rest),
    options,
  );
}
