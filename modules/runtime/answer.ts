/**
 * One request in, one reply out: the module side of CVM as a pure-ish
 * function over a backend, shared by the command, local and UDP servers.
 *
 * @module
 */

import {
  bytesEqual,
  CredentialType,
  CvmError,
  encodeFacts,
  encodeResponse,
  ErrorCode,
  FactType,
  parseRequest,
  toBytes,
} from "../../protocol/mod.ts";
import type { ReplyVersion, Tagged } from "../../protocol/mod.ts";
import type { Outcome, Policy } from "../policy/mod.ts";
import {
  type Backend,
  type ModuleRequest,
  Rejection,
  toModuleRequest,
} from "./backend.ts";

/** Settings of the module runtime that come from the environment. */
export interface ModuleOptions {
  /** `$CVM_LOOKUP_SECRET` as bytes; undefined when not in lookup mode. */
  lookupSecret?: Uint8Array;
  /** The policy layers in force (see `modules/policy`); none when absent. */
  policy?: Policy;
}

/** What answering a request produced. */
export interface Answer {
  /** The bytes to send back. */
  reply: Uint8Array;
  /** The result code (the exit status in command mode). */
  code: number;
  /** The account, "" when the request could not be read. */
  account: string;
  /** The domain when one was sent. */
  domain?: string;
  /** Why a temporary failure happened, for a diagnostic (never a secret). */
  reason?: string;
  /**
   * Words the policy layers add to the log line (the client address,
   * `stale`); with the penalty layer on, an array even when empty.
   */
  words?: string[];
}

/**
 * Reads the runtime options from an environment.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The options.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { moduleOptionsFromEnv } from "./answer.ts";
 * assert.equal(moduleOptionsFromEnv({ CVM_LOOKUP_SECRET: "" }).lookupSecret?.length, 0);
 * ```
 */
export function moduleOptionsFromEnv(
  env: Record<string, string | undefined>,
): ModuleOptions {
  const secret = env.CVM_LOOKUP_SECRET;
  return { lookupSecret: secret === undefined ? undefined : toBytes(secret) };
}

/**
 * Looks the account up. One that is not found (and in this backend's scope)
 * still costs what checking a password would, when one is to be checked.
 */
async function lookupOrDecoy<A>(
  backend: Backend<A>,
  view: ModuleRequest,
  checking: boolean,
): Promise<A> {
  try {
    const account = await backend.lookup(view);
    if (account === undefined) throw new Rejection();
    return account;
  } catch (e) {
    if (checking && e instanceof Rejection && e.outOfScope !== 1) {
      await backend.decoy?.(view).catch(() => {});
    }
    throw e;
  }
}

/** Asks the backend: lookup (or decoy), authenticate unless in lookup mode, results. */
async function askBackend<A>(
  backend: Backend<A>,
  view: ModuleRequest,
  lookupMode: boolean,
): Promise<Outcome> {
  try {
    const account = await lookupOrDecoy(backend, view, !lookupMode);
    if (!lookupMode && !(await backend.authenticate(account, view))) {
      throw new Rejection();
    }
    // A backend may hand its facts over already encoded (`raw`), once
    // per account rather than once per request.
    const results = backend.results(account, view);
    return { code: ErrorCode.OK, facts: results.raw ?? encodeFacts(results) };
  } catch (e) {
    if (e instanceof Rejection) {
      const facts = e.outOfScope === undefined
        ? []
        : [{ type: FactType.OUTOFSCOPE, value: toBytes(String(e.outOfScope)) }];
      return { code: ErrorCode.PERMFAIL, facts };
    }
    const code = e instanceof CvmError ? e.code : ErrorCode.GENERAL;
    const reason = e instanceof Error ? e.message : String(e);
    return { code, facts: [], reason };
  }
}

/**
 * Answers one raw request with a backend: parse (malformed is BAD_CLIDATA),
 * lookup-mode secret check (NOCRED), lookup (unknown is PERMFAIL, after
 * the backend's decoy check),
 * authenticate (skipped in lookup mode), results. With policy layers in
 * the options, the backend is asked through them (after the secret check),
 * and the metrics see every request. Never throws.
 *
 * @param backend The module backend.
 * @param bytes The raw request.
 * @param options Lookup mode, policy layers.
 * @returns The reply bytes, the code and who it was for.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerRequest } from "./answer.ts";
 * import { encodeRequestV2 } from "../../protocol/mod.ts";
 * const backend = {
 *   lookup: (r: { account: string }) =>
 *     Promise.resolve(r.account === "bob" ? r.account : undefined),
 *   authenticate: (_: string, r: { password?: Uint8Array }) =>
 *     Promise.resolve(new TextDecoder().decode(r.password) === "pw"),
 *   results: () => ({ username: "bob", userid: 1000, groupid: 100, directory: "/home/bob" }),
 * };
 * const enc = new TextEncoder();
 * const request = encodeRequestV2(new Uint8Array(0), [
 *   { type: 1, value: enc.encode("bob") },
 *   { type: 3, value: enc.encode("pw") },
 * ]);
 * const answer = await answerRequest(backend, request, {});
 * assert.equal(answer.code, 0);
 * assert.equal(answer.account, "bob");
 * ```
 */
export async function answerRequest<A>(
  backend: Backend<A>,
  bytes: Uint8Array,
  options: ModuleOptions,
): Promise<Answer> {
  const end = options.policy?.begin();
  const answer = await answerParsed(backend, bytes, options);
  end?.(answer.code);
  return answer;
}

async function answerParsed<A>(
  backend: Backend<A>,
  bytes: Uint8Array,
  options: ModuleOptions,
): Promise<Answer> {
  const parsed = parseRequest(bytes);
  if (!parsed.ok) {
    return {
      reply: encodeResponse(parsed.version, {
        code: parsed.code,
        random: parsed.random,
        facts: [],
      }),
      code: parsed.code,
      account: "",
      reason: parsed.reason,
    };
  }
  const request = parsed.value;
  const view = toModuleRequest(request);
  const version: ReplyVersion = request.version;
  const who = {
    account: view.account,
    domain: view.domainGiven ? view.domain : undefined,
  };
  const reply = (code: number, facts: Tagged[] = []) => {
    try {
      return encodeResponse(version, { code, random: request.random, facts });
    } catch (e) {
      const failed = e instanceof CvmError ? e.code : ErrorCode.GENERAL;
      return encodeResponse(version, {
        code: failed,
        random: request.random,
        facts: [],
      });
    }
  };
  if (!request.credentials.some((c) => c.type === CredentialType.ACCOUNT)) {
    const code = ErrorCode.NOCRED;
    return {
      reply: reply(code),
      code,
      reason: "no account credential",
      ...who,
    };
  }
  const lookupMode = options.lookupSecret !== undefined;
  if (lookupMode && options.lookupSecret!.length > 0) {
    // Version 1 has no secret tag: its one credential is the secret.
    const given = version === 1
      ? view.password
      : request.credentials.find((c) => c.type === CredentialType.SECRET)
        ?.value;
    if (!given || !bytesEqual(given, options.lookupSecret!)) {
      const code = ErrorCode.NOCRED;
      const reason = "lookup secret missing or wrong";
      return { reply: reply(code), code, reason, ...who };
    }
  }
  const ask = () => askBackend(backend, view, lookupMode);
  let outcome: Outcome;
  let words: string[] | undefined;
  if (options.policy) {
    const layered = await options.policy.answer(request, ask);
    outcome = layered;
    words = layered.words;
  } else {
    outcome = await ask();
  }
  const out = reply(outcome.code, outcome.facts);
  return {
    reply: out,
    code: out[0],
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    ...who,
    ...(words === undefined ? {} : { words }),
  };
}
