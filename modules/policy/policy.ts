/**
 * The policy layers put together around a module's answer:
 *
 * ```
 * access tables → penalty wait → cache → backend → cache store
 *   → penalty update → failure delay → log words, metrics
 * ```
 *
 * The runtime hands each parsed request and a function that asks the
 * backend; every layer is off unless its variable is set, and with all of
 * them off {@linkcode createPolicy} returns undefined, so the runtime takes
 * exactly its old path.
 *
 * @module
 */

import {
  CredentialType,
  ErrorCode,
  isTemporary,
  type Tagged,
  toExactText,
  toText,
} from "../../protocol/mod.ts";
import { type IpAddress, parseIp } from "./address.ts";
import { AccessTables } from "./access.ts";
import { AnswerCache } from "./cache.ts";
import { CLIENT_ADDRESS_TAG, CredentialKeys } from "./credential_key.ts";
import { createMetrics, type PolicyMetrics } from "./metrics.ts";
import { type MetricsServer, startMetricsServer } from "./metrics_server.ts";
import { Penalty } from "./penalty.ts";
import { openRedisStore } from "./redis_store.ts";
import { type PolicySettings, policySettingsFromEnv } from "./settings.ts";
import { MemoryStore, type StateStore } from "./store.ts";

/** A parsed request, as the layers see it. */
export interface PolicyRequest {
  /** The protocol version. */
  version: 1 | 2;
  /** Every credential as received (the random tag is not one). */
  credentials: readonly Tagged[];
}

/** What answering produced: the code and the facts to encode. */
export interface Outcome {
  /** The result code. */
  code: number;
  /** The encoded facts (for a failure, at most the out-of-scope fact). */
  facts: Tagged[];
  /** Why a temporary failure happened, for a diagnostic. */
  reason?: string;
}

/** An outcome with the words the layers add to its log line. */
export interface PolicyOutcome extends Outcome {
  /**
   * Words after `+ account@domain`: the client address, `stale`. Always
   * an array (maybe empty) with the penalty layer on, so that the log line
   * prints spaces in names as `?` and no account can pass for an address;
   * undefined when no layer adds words.
   */
  words?: string[];
}

/** Where and how the module runs. */
export interface PolicyContext {
  /** The contact mode: the metrics' `mode` label. */
  mode: "command" | "local" | "udp";
  /** The program's base name, e.g. "cvm-pgsql". */
  program: string;
  /** Whether the module runs in lookup mode. */
  lookupMode: boolean;
  /** Where Redis coming and going is said (the log; stderr in command mode). */
  log: (line: string) => void;
  /** Where trouble of the metrics server is said. */
  warn: (line: string) => void;
}

/** The layers in force for one module process. */
export interface Policy {
  /** The settings read at start. */
  readonly settings: PolicySettings;
  /** Marks a request's start (metrics); call the result with its code at its end. */
  begin(): (code: number) => void;
  /** Answers a request through the layers; `ask` asks the backend. Never throws. */
  answer(
    request: PolicyRequest,
    ask: () => Promise<Outcome>,
  ): Promise<PolicyOutcome>;
  /** Empties the cache (SIGHUP). */
  reload(): Promise<void>;
  /** Stops the metrics server, lets go of Redis. */
  close(): Promise<void>;
  /** The port metrics are served on, when they are. */
  readonly metricsPort?: number;
}

/**
 * The word a client address adds to a log line: the address as sent when
 * it is a valid IPv4 or IPv6 address, else `?` (it comes from the client:
 * it must not forge log lines).
 *
 * @param value Credential 128's bytes.
 * @returns The word.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addressWord } from "./policy.ts";
 * const enc = new TextEncoder();
 * assert.equal(addressWord(enc.encode("192.0.2.1")), "192.0.2.1");
 * assert.equal(addressWord(enc.encode("1.2.3.4\n+ root")), "?");
 * ```
 */
export function addressWord(value: Uint8Array): string {
  const text = toText(value);
  return parseIp(text) === undefined ? "?" : text;
}

function credential(
  request: PolicyRequest,
  type: number,
): Uint8Array | undefined {
  return request.credentials.find((c) => c.type === type)?.value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Builds the policy layers from the environment, or undefined when every
 * layer is off. The metrics server is started here (server modes only: a
 * command-mode process lives for one request).
 *
 * @param env The environment.
 * @param context Mode, program, lookup mode, log sinks.
 * @returns The policy, or undefined.
 * @throws {CvmError} CONFIG naming the variable with a bad value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPolicy } from "./policy.ts";
 * const context = { mode: "local" as const, program: "cvm-pwfile", lookupMode: false,
 *   log: () => {}, warn: () => {} };
 * assert.equal(await createPolicy({}, context), undefined); // every layer is off
 * const policy = await createPolicy({ CVM_FAIL_DELAY: "10" }, context);
 * const outcome = await policy!.answer({ version: 2, credentials: [] },
 *   () => Promise.resolve({ code: 100, facts: [] }));
 * assert.equal(outcome.code, 100); // 10 ms later
 * await policy!.close();
 * ```
 */
export async function createPolicy(
  env: Record<string, string | undefined>,
  context: PolicyContext,
): Promise<Policy | undefined> {
  const settings = policySettingsFromEnv(env);
  const caching = settings.cacheTtlMs > 0 || settings.cacheNegativeTtlMs > 0;
  const serving = context.mode !== "command" && settings.metrics !== undefined;
  const on = settings.accessDir !== undefined || caching ||
    settings.failDelayMs > 0 || settings.penalty || serving;
  if (!on) return undefined;

  const memory = new MemoryStore(settings.cacheSize);
  const store: StateStore = settings.redis && (caching || settings.penalty)
    ? await openRedisStore(settings.redis, memory, context.log)
    : memory;
  const access = settings.accessDir
    ? new AccessTables(settings.accessDir)
    : undefined;
  const keys = caching || settings.penalty
    ? new CredentialKeys(settings.cacheKey, context)
    : undefined;
  const cache = caching
    ? new AnswerCache(store, {
      ttlMs: settings.cacheTtlMs,
      negativeTtlMs: settings.cacheNegativeTtlMs,
      staleMs: settings.cacheStaleMs,
    })
    : undefined;
  const penalty = settings.penalty
    ? new Penalty(store, {
      baseMs: settings.penaltyBaseMs,
      maxMs: settings.penaltyMaxMs,
      trusted: settings.penaltyTrusted,
    })
    : undefined;
  let metrics: PolicyMetrics | undefined;
  let server: MetricsServer | undefined;
  if (serving) {
    metrics = await createMetrics(context.mode, () => penalty?.active() ?? 0);
    try {
      server = startMetricsServer(
        settings.metrics!,
        metrics.text,
        metrics.contentType,
        context.warn,
      );
    } catch (e) {
      await store.close();
      throw new Error(
        `$CVM_METRICS: cannot listen on ${settings.metrics!.hostname}:${
          settings.metrics!.port
        }: ${(e as Error).message}`,
      );
    }
  }

  const answer = async (
    request: PolicyRequest,
    ask: () => Promise<Outcome>,
  ): Promise<PolicyOutcome> => {
    const words: string[] = [];
    const sentAddress = credential(request, CLIENT_ADDRESS_TAG);
    let address: IpAddress | undefined;
    if (penalty && sentAddress !== undefined) {
      words.push(addressWord(sentAddress));
      address = parseIp(toText(sentAddress));
    }
    const account = credential(request, CredentialType.ACCOUNT) ??
      new Uint8Array(0);
    const domain = credential(request, CredentialType.DOMAIN);
    let outcome: Outcome;
    try {
      if (access && await access.denies(account, domain)) {
        outcome = { code: ErrorCode.PERMFAIL, facts: [] };
      } else {
        outcome = await checked(request, ask, account, domain, address, words);
      }
    } catch (e) {
      outcome = {
        code: ErrorCode.IO,
        facts: [],
        reason: e instanceof Error ? e.message : String(e),
      };
    }
    if (outcome.code === ErrorCode.PERMFAIL && settings.failDelayMs > 0) {
      await sleep(settings.failDelayMs);
    }
    return {
      ...outcome,
      words: penalty || words.length > 0 ? words : undefined,
    };
  };

  /** Penalty wait, cache, backend, cache store, penalty update. */
  const checked = async (
    request: PolicyRequest,
    ask: () => Promise<Outcome>,
    account: Uint8Array,
    domain: Uint8Array | undefined,
    address: IpAddress | undefined,
    words: string[],
  ): Promise<Outcome> => {
    const key = keys?.of(request.version, request.credentials) ?? "";
    const ticket = await penalty?.begin(
      address,
      toExactText(account),
      domain && toExactText(domain),
    );
    let outcome: Outcome | undefined;
    try {
      const cached = await cache?.get(key);
      if (cached?.fresh) {
        metrics?.cacheHit();
        outcome = { code: cached.code, facts: cached.facts };
      } else {
        if (cache) metrics?.cacheMiss();
        outcome = await ask();
        if (isTemporary(outcome.code)) {
          metrics?.backendTemporaryFailure();
          if (cached && !cached.fresh) {
            metrics?.cacheStale();
            words.push("stale");
            outcome = { code: cached.code, facts: cached.facts };
          }
        } else {
          await cache?.put(key, outcome.code, outcome.facts);
        }
      }
      return outcome;
    } finally {
      await penalty?.finish(ticket, outcome?.code ?? ErrorCode.IO, key);
    }
  };

  return {
    settings,
    metricsPort: server?.port,
    begin: () => metrics?.begin() ?? (() => {}),
    answer,
    async reload() {
      await cache?.clear();
    },
    async close() {
      server?.close();
      await store.close();
    },
  };
}
