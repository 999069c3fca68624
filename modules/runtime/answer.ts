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
}

/**
 * Reads the runtime options from an environment.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The options.
 * @example
 * ```ts
 * import { moduleOptionsFromEnv } from "./answer.ts";
 * moduleOptionsFromEnv({ CVM_LOOKUP_SECRET: "" }).lookupSecret?.length; // 0
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

/**
 * Answers one raw request with a backend: parse (malformed is BAD_CLIDATA),
 * lookup-mode secret check (NOCRED), lookup (unknown is PERMFAIL, after
 * the backend's decoy check),
 * authenticate (skipped in lookup mode), results. Never throws.
 *
 * @param backend The module backend.
 * @param bytes The raw request.
 * @param options Lookup mode.
 * @returns The reply bytes, the code and who it was for.
 * @example
 * ```ts
 * import { answerRequest } from "./answer.ts";
 * // const answer = await answerRequest(backend, requestBytes, {});
 * ```
 */
export async function answerRequest<A>(
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
  try {
    if (!request.credentials.some((c) => c.type === CredentialType.ACCOUNT)) {
      throw new CvmError(ErrorCode.NOCRED, "no account credential");
    }
    const lookupMode = options.lookupSecret !== undefined;
    if (lookupMode && options.lookupSecret!.length > 0) {
      // Version 1 has no secret tag: its one credential is the secret.
      const given = version === 1
        ? view.password
        : request.credentials.find((c) => c.type === CredentialType.SECRET)
          ?.value;
      if (!given || !bytesEqual(given, options.lookupSecret!)) {
        throw new CvmError(ErrorCode.NOCRED, "lookup secret missing or wrong");
      }
    }
    const account = await lookupOrDecoy(backend, view, !lookupMode);
    if (!lookupMode && !(await backend.authenticate(account, view))) {
      throw new Rejection();
    }
    // A backend may hand its facts over already encoded (`raw`), once
    // per account rather than once per request.
    const results = backend.results(account, view);
    const facts = results.raw ?? encodeFacts(results);
    const bytes = reply(ErrorCode.OK, facts);
    return { reply: bytes, code: bytes[0], ...who };
  } catch (e) {
    if (e instanceof Rejection) {
      const facts = e.outOfScope === undefined
        ? []
        : [{ type: FactType.OUTOFSCOPE, value: toBytes(String(e.outOfScope)) }];
      return { reply: reply(ErrorCode.PERMFAIL, facts), code: 100, ...who };
    }
    const code = e instanceof CvmError ? e.code : ErrorCode.GENERAL;
    const reason = e instanceof Error ? e.message : String(e);
    return { reply: reply(code), code, reason, ...who };
  }
}
