/**
 * The server side of SASL for mail servers, validating through CVM: the
 * mechanisms PLAIN and LOGIN (module in `$CVM_SASL_PLAIN`, or
 * `$CVM_SASL_LOGIN` for LOGIN) and CRAM-MD5 (`$CVM_SASL_CRAM_MD5`), and the
 * text framing an SMTP, POP3 or IMAP server uses: challenges sent as
 * base64 between a prefix and a suffix ({@link SaslFraming}: `334 ` and
 * CRLF for SMTP, `+ ` and CRLF for IMAP and POP3), responses read as base64
 * lines, `*` (or an empty line) to cancel.
 *
 * Replies and result codes are those of the reference's cvm-sasl library,
 * log lines those of upstream after its release 0.97 (naming who failed),
 * and as the reference does, a success puts the account's facts
 * into the environment (`USER`, `HOME`, … as cvm-checkpassword sets them).
 * Where the reference is broken this library is not: every configured
 * mechanism is offered (the reference drops some when several are set),
 * `$CVM_SASL_LOGIN` wins over `$CVM_SASL_PLAIN` for LOGIN as documented,
 * and a CRAM-MD5 digest reaches the module as the hex text the client sent
 * (the reference mangles it).
 *
 * @example
 * ```ts
 * import { LineReader, saslAuth2, SaslFraming } from "./sasl.ts";
 * const io = {
 *   readLine: new LineReader(Deno.stdin.readable).readLine,
 *   write: (text: string) => Deno.stdout.write(new TextEncoder().encode(text)).then(() => {}),
 * };
 * const result = await saslAuth2(io, "PLAIN", undefined, SaslFraming.SMTP);
 * ```
 *
 * @module
 */

import {
  asciiLower,
  type ClientFacts,
  CredentialType,
  ErrorCode,
  type Tagged,
  toBytes,
  toExactText,
  toText,
} from "../../protocol/mod.ts";
import { writeStderr } from "../../program.ts";
import { checkpasswordEnv } from "../facts_env.ts";
import { authenticate, type ClientOptions, splitAccount } from "../client.ts";

/** The result codes of the SASL functions (the reference's numbering). */
export const SaslCode = {
  /** Authentication is complete. */
  AUTH_OK: 0,
  /** Authentication failed (permanently). */
  AUTH_FAILED: 1,
  /** Invalid or unknown mechanism name. */
  NO_MECH: 2,
  /** Temporary or internal failure. */
  TEMP_FAIL: 3,
  /** Send the challenge to the client, wait for a response. */
  CHALLENGE: 4,
  /** A response was required but not given. */
  RESP_REQUIRED: 5,
  /** An (initial) response was given but not allowed. */
  RESP_NOTALLOWED: 6,
  /** The response was invalid. */
  RESP_BAD: 7,
  /** End of file while waiting for a response. */
  RESP_EOF: 8,
} as const;

/**
 * How the text protocols frame a challenge: the prefix before the base64
 * text and the suffix after it.
 *
 * @example
 * ```ts
 * import { SaslFraming } from "./sasl.ts";
 * SaslFraming.IMAP.prefix; // "+ "
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

/** A mechanism that is enabled, and the module string that validates it. */
export interface SaslMechanism {
  /** The mechanism name, e.g. "PLAIN". */
  name: "LOGIN" | "PLAIN" | "CRAM-MD5";
  /** The module string (from the environment). */
  module: string;
}

/**
 * The enabled mechanisms, in the order the reference lists them: LOGIN
 * (when `$CVM_SASL_LOGIN` or `$CVM_SASL_PLAIN` is set), PLAIN
 * (`$CVM_SASL_PLAIN`), CRAM-MD5 (`$CVM_SASL_CRAM_MD5`). A variable set to
 * the empty string counts as set.
 *
 * @param env The environment.
 * @returns The mechanisms.
 * @example
 * ```ts
 * import { saslMechanisms } from "./sasl.ts";
 * saslMechanisms({ CVM_SASL_PLAIN: "cvm-local:/run/cvm" }).map((m) => m.name); // ["LOGIN", "PLAIN"]
 * ```
 */
export function saslMechanisms(
  env: Record<string, string | undefined>,
): SaslMechanism[] {
  const out: SaslMechanism[] = [];
  const login = env.CVM_SASL_LOGIN ?? env.CVM_SASL_PLAIN;
  if (login !== undefined) out.push({ name: "LOGIN", module: login });
  if (env.CVM_SASL_PLAIN !== undefined) {
    out.push({ name: "PLAIN", module: env.CVM_SASL_PLAIN });
  }
  if (env.CVM_SASL_CRAM_MD5 !== undefined) {
    out.push({ name: "CRAM-MD5", module: env.CVM_SASL_CRAM_MD5 });
  }
  return out;
}

/**
 * The capability text a server advertises, e.g. `AUTH LOGIN PLAIN`.
 *
 * @param env The environment.
 * @returns The text, or undefined when no mechanism is enabled.
 * @example
 * ```ts
 * import { saslCaps } from "./sasl.ts";
 * saslCaps({ CVM_SASL_CRAM_MD5: "/usr/bin/cvm-vmailmgr" }); // "AUTH CRAM-MD5"
 * ```
 */
export function saslCaps(
  env: Record<string, string | undefined>,
): string | undefined {
  const names = saslMechanisms(env).map((m) => m.name);
  return names.length === 0 ? undefined : `AUTH ${names.join(" ")}`;
}

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Encodes bytes as base64 with padding.
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 * @example
 * ```ts
 * import { encodeBase64 } from "./sasl.ts";
 * encodeBase64(new TextEncoder().encode("Username:")); // "VXNlcm5hbWU6"
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) |
      (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : "=";
  }
  return out;
}

/**
 * Decodes a base64 line as the reference does: groups of four characters
 * from the standard alphabet; `=` in the third place ends the text after
 * one byte, in the fourth after two (whatever follows is ignored); any
 * other character, or a group cut short, makes the line invalid.
 *
 * @param text The line.
 * @returns The bytes, or undefined when the line is not valid.
 * @example
 * ```ts
 * import { decodeBase64Line } from "./sasl.ts";
 * decodeBase64Line("Ym9iYQ==ignored"); // bytes of "boba"
 * decodeBase64Line("Ym9"); // undefined
 * ```
 */
export function decodeBase64Line(text: string): Uint8Array | undefined {
  const out: number[] = [];
  const value = (c: string | undefined) =>
    c === undefined ? -1 : ALPHABET.indexOf(c);
  for (let i = 0; i < text.length; i += 4) {
    const a = value(text[i]);
    const b = value(text[i + 1]);
    if (a < 0 || b < 0) return undefined;
    out.push(((a << 2) | (b >> 4)) & 0xff);
    if (text[i + 2] === "=") return new Uint8Array(out);
    const c = value(text[i + 2]);
    if (c < 0) return undefined;
    out.push(((b << 4) | (c >> 2)) & 0xff);
    if (text[i + 3] === "=") return new Uint8Array(out);
    const d = value(text[i + 3]);
    if (d < 0) return undefined;
    out.push(((c << 6) | d) & 0xff);
  }
  return new Uint8Array(out);
}

/** The text up to the first NUL, as C would read it. */
function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/**
 * Text for a log line as the reference writes it: up to the first NUL,
 * each byte from 32 to 127 as itself and any other as `?`, so a name
 * cannot forge a line.
 */
function logText(text: string | Uint8Array): string {
  const bytes = cString(typeof text === "string" ? toBytes(text) : text);
  return Array.from(
    bytes,
    (b) => b >= 32 && b <= 127 ? String.fromCharCode(b) : "?",
  ).join("");
}

/** Settings of a SASL exchange. */
export interface SaslOptions {
  /** The environment (module variables, ucspi domain, split characters). */
  env?: Record<string, string | undefined>;
  /** Where log lines go; default: stderr as `PROGRAM: line`. */
  log?: (line: string) => void;
  /** The program name for the default log. */
  program?: string;
  /** Options for the CVM client (e.g. UDP waits). */
  client?: ClientOptions;
  /**
   * Called after a success for each of `USER HOME UID GID` and, where the
   * fact came back, `SHELL NAME GROUP DOMAIN MAIL MAILBOX MAILDIR`; by
   * default they go into the process environment, as the reference does.
   */
  setenv?: (name: string, value: string) => void;
}

/** One step of a mechanism: a code, and the challenge when it is CHALLENGE. */
export interface SaslStep {
  /** A {@link SaslCode}. */
  code: number;
  /** The challenge to send (raw bytes), with CHALLENGE. */
  challenge?: Uint8Array;
}

/** The ucspi local domain, or undefined when there is none. */
function ucspiLocalDomain(
  env: Record<string, string | undefined>,
): string | undefined {
  const proto = env.PROTO;
  return proto ? env[`${proto}LOCALHOST`] : undefined;
}

/**
 * The state of one SASL exchange: the mechanism in progress, its next
 * step, and on success the user name and the module's facts.
 *
 * @example
 * ```ts
 * import { SaslState } from "./sasl.ts";
 * const state = new SaslState({ env: { CVM_SASL_PLAIN: "/usr/bin/cvm-unix" } });
 * const step = await state.start("PLAIN", new TextEncoder().encode("\0bob\0pw"));
 * ```
 */
export class SaslState {
  /** The SASL user name (as the client gave it) after a success. */
  username = "";
  /**
   * The user name the client gave, once the mechanism has read one (also
   * when it then failed): what a failure's log line names.
   */
  triedUsername: Uint8Array = new Uint8Array(0);
  /** The facts the module returned after a success. */
  facts?: ClientFacts;
  readonly #env: Record<string, string | undefined>;
  readonly #client: ClientOptions;
  readonly #setenv: (name: string, value: string) => void;
  #next?: (response: Uint8Array) => Promise<SaslStep>;

  /**
   * @param options The environment, client options, where facts go.
   */
  constructor(options: SaslOptions = {}) {
    this.#env = options.env ?? Deno.env.toObject();
    this.#client = options.client ?? {};
    this.#setenv = options.setenv ?? ((k, v) => Deno.env.set(k, v));
  }

  /** The ucspi local domain (`$TCPLOCALHOST` under tcpserver), if any. */
  get domain(): string | undefined {
    return ucspiLocalDomain(this.#env);
  }

  /**
   * Starts a mechanism, with the client's initial response if it sent one.
   *
   * @param mechanism The mechanism name (any case).
   * @param initial The decoded initial response.
   * @returns The first step: a result, or a challenge.
   */
  start(mechanism: string, initial?: Uint8Array): Promise<SaslStep> {
    // strcasecmp: ASCII letters only.
    const wanted = asciiLower(mechanism);
    const mech = saslMechanisms(this.#env).find((m) =>
      asciiLower(m.name) === wanted
    );
    if (mech === undefined) return Promise.resolve({ code: SaslCode.NO_MECH });
    switch (mech.name) {
      case "PLAIN":
        return this.#plain(mech.module, initial);
      case "LOGIN":
        return this.#login(mech.module, initial);
      case "CRAM-MD5":
        return this.#cram(mech.module, initial);
    }
  }

  /**
   * Continues the mechanism with the client's decoded response.
   *
   * @param response The decoded response.
   * @returns The next step.
   */
  respond(response: Uint8Array): Promise<SaslStep> {
    const next = this.#next;
    this.#next = undefined;
    if (next === undefined) {
      return Promise.resolve({ code: SaslCode.TEMP_FAIL });
    }
    return next(response);
  }

  #challenge(
    text: string | Uint8Array,
    next: (response: Uint8Array) => Promise<SaslStep>,
  ): Promise<SaslStep> {
    this.#next = next;
    return Promise.resolve({
      code: SaslCode.CHALLENGE,
      challenge: typeof text === "string" ? toBytes(text) : text,
    });
  }

  async #validate(
    module: string,
    username: Uint8Array,
    secret: Tagged[],
  ): Promise<SaslStep> {
    const ucspi = ucspiLocalDomain(this.#env);
    // toExactText, so that toBytes sends the name's bytes as they came.
    const { account, domain } = splitAccount(
      toExactText(username),
      ucspi ?? "",
      this.#env.CVM_ACCOUNT_SPLIT_CHARS ?? "@",
    );
    const result = await authenticate(module, [
      { type: CredentialType.ACCOUNT, value: toBytes(account) },
      { type: CredentialType.DOMAIN, value: toBytes(domain) },
      ...secret,
    ], { ...this.#client, env: this.#env });
    if (result.code === ErrorCode.OK) {
      this.username = toText(username);
      this.facts = result.facts;
      for (const [k, v] of Object.entries(checkpasswordEnv({}, result.facts))) {
        this.#setenv(k, v);
      }
      return { code: SaslCode.AUTH_OK };
    }
    return {
      code: result.code === ErrorCode.PERMFAIL
        ? SaslCode.AUTH_FAILED
        : SaslCode.TEMP_FAIL,
    };
  }

  #password(module: string, username: Uint8Array, password: Uint8Array) {
    return this.#validate(module, username, [
      { type: CredentialType.PASSWORD, value: password },
    ]);
  }

  #plain(module: string, initial?: Uint8Array): Promise<SaslStep> {
    const check = (blob: Uint8Array): Promise<SaslStep> => {
      const first = blob.indexOf(0);
      const second = first < 0 ? -1 : blob.indexOf(0, first + 1);
      if (second < 0) return Promise.resolve({ code: SaslCode.RESP_BAD });
      this.triedUsername = blob.slice(first + 1, second);
      return this.#password(
        module,
        blob.subarray(first + 1, second),
        cString(blob.subarray(second + 1)),
      );
    };
    if (initial === undefined) return this.#challenge("", check);
    return check(initial);
  }

  #login(module: string, initial?: Uint8Array): Promise<SaslStep> {
    const password = (username: Uint8Array): Promise<SaslStep> => {
      if (username.length === 0) {
        return Promise.resolve({ code: SaslCode.RESP_BAD });
      }
      this.triedUsername = username.slice();
      return this.#challenge(
        "Password:",
        (pass) => this.#password(module, cString(username), cString(pass)),
      );
    };
    if (initial === undefined) return this.#challenge("Username:", password);
    return password(initial);
  }

  #cram(module: string, initial?: Uint8Array): Promise<SaslStep> {
    if (initial !== undefined) {
      return Promise.resolve({ code: SaslCode.RESP_NOTALLOWED });
    }
    // <pid.seconds.microseconds@host>, as the reference makes it.
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const seconds = Math.floor(now / 1e6);
    const micros = String(now % 1e6).padStart(6, "0");
    const host = ucspiLocalDomain(this.#env) ?? "unknown";
    const challenge = `<${Deno.pid}.${seconds}.${micros}@${host}>`;
    return this.#challenge(challenge, (response) => {
      const text = toExactText(cString(response));
      const space = text.indexOf(" ");
      const digest = space < 0 ? "" : text.slice(space + 1);
      if (!/^[0-9A-Fa-f]{32}$/.test(digest)) {
        return Promise.resolve({ code: SaslCode.RESP_BAD });
      }
      this.triedUsername = toBytes(text.slice(0, space));
      // The digest goes to the module as the hex text the client sent.
      // (The reference decodes it to 16 bytes, starting one character
      // early, so no module could ever accept its responses.)
      return this.#validate(module, toBytes(text.slice(0, space)), [
        { type: CredentialType.CHALLENGE, value: toBytes(challenge) },
        { type: CredentialType.RESPONSE, value: toBytes(digest) },
        { type: CredentialType.RESPONSE_TYPE, value: toBytes("CRAM-MD5") },
      ]);
    });
  }
}

/**
 * Reads CRLF- or LF-terminated lines from a byte stream as the reference's
 * line reader does: the newline and one carriage return before it are
 * removed; a last line without a newline loses its last character (the
 * reference assumes it was the newline).
 *
 * @example
 * ```ts
 * import { LineReader } from "./sasl.ts";
 * const reader = new LineReader(Deno.stdin.readable);
 * const line = await reader.readLine(); // undefined at end of input
 * ```
 */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #eof = false;

  /**
   * @param stream The input.
   */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /**
   * Reads the next line.
   *
   * @returns The line without its terminator, or undefined at the end.
   */
  readLine = async (): Promise<string | undefined> => {
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a);
      if (nl >= 0 || this.#eof) {
        if (nl < 0 && this.#buffer.length === 0) return undefined;
        const end = nl >= 0 ? nl : this.#buffer.length;
        let line = this.#buffer.subarray(0, nl >= 0 ? end : end - 1);
        this.#buffer = this.#buffer.subarray(nl >= 0 ? nl + 1 : end);
        if (line.length > 0 && line[line.length - 1] === 0x0d) {
          line = line.subarray(0, line.length - 1);
        }
        return new TextDecoder().decode(line);
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#eof = true;
        continue;
      }
      const joined = new Uint8Array(this.#buffer.length + value.length);
      joined.set(this.#buffer);
      joined.set(value, this.#buffer.length);
      this.#buffer = joined;
    }
  };
}

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
 * import { saslAuth2, SaslFraming } from "./sasl.ts";
 * const io = { readLine: () => Promise.resolve(undefined), write: () => Promise.resolve() };
 * const env = {}; // no $CVM_SASL_PLAIN: no mechanism
 * const { code } = await saslAuth2(io, "LOGIN", undefined, { ...SaslFraming.SMTP, env, log: () => {} });
 * code; // 2 (NO_MECH)
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
 * import { saslAuth1, SaslFraming } from "./sasl.ts";
 * const io = { readLine: () => Promise.resolve(undefined), write: () => Promise.resolve() };
 * const env = { CVM_SASL_PLAIN: "/usr/bin/cvm-pwfile" };
 * const { code } = await saslAuth1(io, "LOGIN", { ...SaslFraming.IMAP, env, log: () => {} });
 * code; // 8 (RESP_EOF: the client sent no user name)
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

/**
 * The reply a server sends for a failed exchange: an SMTP-style number and
 * the reference's text.
 *
 * @param code A {@link SaslCode}.
 * @returns The reply number and message.
 * @example
 * ```ts
 * import { saslAuthMessage } from "./sasl.ts";
 * saslAuthMessage(1); // { code: 501, message: "Authentication failed." }
 * ```
 */
export function saslAuthMessage(code: number): {
  code: number;
  message: string;
} {
  switch (code) {
    case SaslCode.AUTH_FAILED:
      return { code: 501, message: "Authentication failed." };
    case SaslCode.NO_MECH:
      return { code: 504, message: "Unrecognized authentication mechanism." };
    case SaslCode.RESP_REQUIRED:
      return { code: 535, message: "Response was required but not given." };
    case SaslCode.RESP_NOTALLOWED:
      return { code: 535, message: "Initial response not allowed." };
    case SaslCode.RESP_BAD:
      return { code: 501, message: "Could not decode the response." };
    case SaslCode.RESP_EOF:
      return { code: 535, message: "End of file reached." };
    default:
      return { code: 451, message: "Internal error." };
  }
}
