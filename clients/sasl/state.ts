/**
 * The SASL mechanisms as a state machine: PLAIN, LOGIN and CRAM-MD5 take
 * the client's responses step by step, validate through CVM, and on success
 * put the account's facts into the environment as the reference does.
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
import { checkpasswordEnv } from "../facts_env.ts";
import { authenticate, type ClientOptions, splitAccount } from "../client.ts";
import { SaslCode } from "./codes.ts";
import { saslMechanisms } from "./mechanisms.ts";
import { cString } from "./_text.ts";

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
 * import assert from "node:assert/strict";
 * import { SaslState } from "./state.ts";
 * import { SaslCode } from "./codes.ts";
 * const state = new SaslState({ env: { CVM_SASL_PLAIN: "cvm-local:/nonexistent/s" } });
 * const step = await state.start("PLAIN", new TextEncoder().encode("\0bob\0pw"));
 * assert.equal(step.code, SaslCode.TEMP_FAIL); // nothing listens there
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
