/**
 * Where the cache and the penalty keep their state: this process's memory,
 * or Redis (see `redis_store.ts`), behind one small interface. Keys are
 * HMACs or hashes, values are encoded answers and counters: no password,
 * nor an unkeyed hash of one, is ever given to a store.
 *
 * @module
 */

import { LruMap } from "./_lru.ts";

/** How many recent failed credential keys are remembered per counter. */
export const RECENT_FAILURES = 10;

/** The most penalty counters (and their recent failures) kept in memory. */
export const MEMORY_COUNTERS = 100_000;

/** The state of the cache and the penalty. */
export interface StateStore {
  /** The encoded answer under a key, if any. */
  getAnswer(key: string): Promise<Uint8Array | undefined>;
  /** Stores an encoded answer for `keepMs`. */
  putAnswer(key: string, value: Uint8Array, keepMs: number): Promise<void>;
  /** Forgets every answer. */
  clearAnswers(): Promise<void>;
  /** Adds one to a counter (kept `forgetMs` after its last change); returns the new count. */
  countUp(key: string, forgetMs: number): Promise<number>;
  /** Takes one back from a counter that is above zero. */
  countDown(key: string): Promise<void>;
  /** Sets a counter back to zero. */
  countReset(key: string): Promise<void>;
  /**
   * Remembers that a credential key failed under a counter; says whether it
   * was already among the last {@linkcode RECENT_FAILURES}.
   */
  seenFailure(
    counter: string,
    credential: string,
    forgetMs: number,
  ): Promise<boolean>;
  /** Lets go of connections. */
  close(): Promise<void>;
}

/**
 * The state in this process's memory, bounded: at most `answers` answers
 * and {@linkcode MEMORY_COUNTERS} counters, least recently used out first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./store.ts";
 * const store = new MemoryStore(100);
 * assert.equal(await store.countUp("a", 60_000), 1);
 * assert.equal(await store.countUp("a", 60_000), 2);
 * ```
 */
export class MemoryStore implements StateStore {
  readonly #answers: LruMap<string, Uint8Array>;
  readonly #counters = new LruMap<string, number>(MEMORY_COUNTERS);
  readonly #recent = new LruMap<string, string[]>(MEMORY_COUNTERS);

  /**
   * @param answers The most answers kept (`$CVM_CACHE_SIZE`).
   */
  constructor(answers: number) {
    this.#answers = new LruMap(answers);
  }

  /**
   * Everything held, for inspection (a test looks for passwords in it):
   * each answer, counter and list of recent failures with its key.
   *
   * @returns The keys and values.
   */
  contents(): { key: string; value: Uint8Array | number | string[] }[] {
    return [
      ...this.#answers.entries(),
      ...this.#counters.entries(),
      ...this.#recent.entries(),
    ].map(([key, value]) => ({ key, value }));
  }

  getAnswer(key: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#answers.get(key));
  }

  putAnswer(key: string, value: Uint8Array, keepMs: number): Promise<void> {
    this.#answers.set(key, value, keepMs);
    return Promise.resolve();
  }

  clearAnswers(): Promise<void> {
    this.#answers.clear();
    return Promise.resolve();
  }

  countUp(key: string, forgetMs: number): Promise<number> {
    const n = (this.#counters.get(key) ?? 0) + 1;
    this.#counters.set(key, n, forgetMs);
    return Promise.resolve(n);
  }

  countDown(key: string): Promise<void> {
    const n = this.#counters.get(key);
    if (n !== undefined && n > 1) this.#counters.replace(key, n - 1);
    else if (n !== undefined) this.#counters.delete(key);
    return Promise.resolve();
  }

  countReset(key: string): Promise<void> {
    this.#counters.delete(key);
    this.#recent.delete(key);
    return Promise.resolve();
  }

  seenFailure(
    counter: string,
    credential: string,
    forgetMs: number,
  ): Promise<boolean> {
    const list = this.#recent.get(counter) ?? [];
    const seen = list.includes(credential);
    const next = [credential, ...list.filter((c) => c !== credential)].slice(
      0,
      RECENT_FAILURES,
    );
    this.#recent.set(counter, next, forgetMs);
    return Promise.resolve(seen);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
