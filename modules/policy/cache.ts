/**
 * The answer cache: a positive answer is kept as its facts for the TTL, a
 * rejection as its code and out-of-scope fact for the negative TTL, under
 * the credential key (a keyed HMAC). A temporary failure is never kept. A
 * positive answer stays a while past its TTL (the stale window) to stand in
 * for the backend while it fails temporarily.
 *
 * @module
 */

import { ErrorCode, type Tagged } from "../../protocol/mod.ts";
import type { StateStore } from "./store.ts";

/** The cache's durations, in milliseconds. */
export interface CacheSettings {
  /** How long a positive answer is fresh (0: not kept). */
  ttlMs: number;
  /** How long a rejection is kept (0: not kept). */
  negativeTtlMs: number;
  /** How long past its TTL a positive answer may stand in. */
  staleMs: number;
}

/** An answer found in the cache. */
export interface CachedAnswer {
  /** 0 or 100. */
  code: number;
  /** The encoded facts (for 100, at most the out-of-scope fact). */
  facts: Tagged[];
  /** Whether it is within its TTL (else only fit to stand in). */
  fresh: boolean;
}

/**
 * Encodes an answer for a store: the time it is fresh until, the code, then
 * each fact as type, 2-byte length and value.
 *
 * @param freshUntil Epoch milliseconds.
 * @param code The result code.
 * @param facts The facts.
 * @returns The bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntry, encodeEntry } from "./cache.ts";
 * const bytes = encodeEntry(5, 100, [{ type: 16, value: new Uint8Array([49]) }]);
 * assert.equal(decodeEntry(bytes)?.code, 100);
 * ```
 */
export function encodeEntry(
  freshUntil: number,
  code: number,
  facts: readonly Tagged[],
): Uint8Array {
  let length = 10;
  for (const f of facts) length += 3 + f.value.length;
  const out = new Uint8Array(length);
  new DataView(out.buffer).setFloat64(0, freshUntil);
  out[8] = code;
  out[9] = facts.length;
  let at = 10;
  for (const f of facts) {
    out[at] = f.type;
    out[at + 1] = f.value.length >> 8;
    out[at + 2] = f.value.length & 0xff;
    out.set(f.value, at + 3);
    at += 3 + f.value.length;
  }
  return out;
}

/**
 * Decodes what {@linkcode encodeEntry} made; undefined for anything else.
 *
 * @param bytes The stored bytes.
 * @returns Fresh-until time, code and facts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntry } from "./cache.ts";
 * assert.equal(decodeEntry(new Uint8Array(3)), undefined);
 * ```
 */
export function decodeEntry(
  bytes: Uint8Array,
): { freshUntil: number; code: number; facts: Tagged[] } | undefined {
  if (bytes.length < 10) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const freshUntil = view.getFloat64(0);
  const code = bytes[8];
  if (code !== ErrorCode.OK && code !== ErrorCode.PERMFAIL) return undefined;
  const facts: Tagged[] = [];
  let at = 10;
  for (let i = 0; i < bytes[9]; i++) {
    if (at + 3 > bytes.length) return undefined;
    const length = (bytes[at + 1] << 8) | bytes[at + 2];
    if (at + 3 + length > bytes.length) return undefined;
    facts.push({
      type: bytes[at],
      value: bytes.slice(at + 3, at + 3 + length),
    });
    at += 3 + length;
  }
  if (at !== bytes.length) return undefined;
  return { freshUntil, code, facts };
}

/**
 * The answer cache over a state store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AnswerCache } from "./cache.ts";
 * import { MemoryStore } from "./store.ts";
 * const cache = new AnswerCache(new MemoryStore(10), { ttlMs: 60_000, negativeTtlMs: 0, staleMs: 0 });
 * await cache.put("k", 0, []);
 * assert.equal((await cache.get("k"))?.fresh, true);
 * ```
 */
export class AnswerCache {
  readonly #store: StateStore;
  readonly #settings: CacheSettings;
  readonly #now: () => number;

  /**
   * @param store Where answers are kept.
   * @param settings TTLs and the stale window.
   * @param now The clock (epoch milliseconds; shared by hosts through Redis).
   */
  constructor(
    store: StateStore,
    settings: CacheSettings,
    now: () => number = Date.now,
  ) {
    this.#store = store;
    this.#settings = settings;
    this.#now = now;
  }

  /**
   * The answer kept under a key, fresh or fit to stand in.
   *
   * @param key The credential key.
   * @returns The answer, or undefined.
   */
  async get(key: string): Promise<CachedAnswer | undefined> {
    const bytes = await this.#store.getAnswer(key);
    const entry = bytes && decodeEntry(bytes);
    if (!entry) return undefined;
    const now = this.#now();
    if (now < entry.freshUntil) {
      return { code: entry.code, facts: entry.facts, fresh: true };
    }
    const standIn = entry.code === ErrorCode.OK &&
      now < entry.freshUntil + this.#settings.staleMs;
    return standIn
      ? { code: entry.code, facts: entry.facts, fresh: false }
      : undefined;
  }

  /**
   * Keeps an answer, when it is one to keep (0 with a TTL, 100 with a
   * negative TTL; never a temporary failure).
   *
   * @param key The credential key.
   * @param code The result code.
   * @param facts The encoded facts.
   */
  async put(
    key: string,
    code: number,
    facts: readonly Tagged[],
  ): Promise<void> {
    const { ttlMs, negativeTtlMs, staleMs } = this.#settings;
    const now = this.#now();
    if (code === ErrorCode.OK && ttlMs > 0) {
      await this.#store.putAnswer(
        key,
        encodeEntry(now + ttlMs, code, facts),
        ttlMs + staleMs,
      );
    } else if (code === ErrorCode.PERMFAIL && negativeTtlMs > 0) {
      await this.#store.putAnswer(
        key,
        encodeEntry(now + negativeTtlMs, code, facts),
        negativeTtlMs,
      );
    }
  }

  /** Forgets every answer (SIGHUP). */
  async clear(): Promise<void> {
    await this.#store.clearAnswers();
  }
}
