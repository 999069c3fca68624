/**
 * A map bounded in size (least recently used out first) whose entries
 * expire: the in-memory store of every policy layer, so that no client can
 * make it grow without bound.
 *
 * @module
 */

interface Slot<V> {
  value: V;
  expiresAt: number;
}

/**
 * A size-bounded map with an expiry per entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LruMap } from "./_lru.ts";
 * const map = new LruMap<string, number>(2);
 * map.set("a", 1, 60_000);
 * assert.equal(map.get("a"), 1);
 * ```
 */
export class LruMap<K, V> {
  readonly #slots = new Map<K, Slot<V>>();
  readonly #capacity: number;
  readonly #now: () => number;

  /**
   * @param capacity The most entries kept.
   * @param now The clock, in milliseconds.
   */
  constructor(capacity: number, now: () => number = Date.now) {
    this.#capacity = Math.max(1, capacity);
    this.#now = now;
  }

  /** How many entries are held (expired ones included until touched or swept). */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * The value under a key, unless it expired; marks it recently used.
   *
   * @param key The key.
   * @returns The value, or undefined.
   */
  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.#slots.delete(key);
    if (slot.expiresAt <= this.#now()) return undefined;
    this.#slots.set(key, slot);
    return slot.value;
  }

  /**
   * Sets a value that expires after `ttlMs`, dropping the least recently
   * used entry when full.
   *
   * @param key The key.
   * @param value The value.
   * @param ttlMs Milliseconds it lives.
   */
  set(key: K, value: V, ttlMs: number): void {
    this.#slots.delete(key);
    if (this.#slots.size >= this.#capacity) {
      this.sweep();
      if (this.#slots.size >= this.#capacity) {
        this.#slots.delete(this.#slots.keys().next().value as K);
      }
    }
    this.#slots.set(key, { value, expiresAt: this.#now() + ttlMs });
  }

  /**
   * Changes the value under a live key, keeping its expiry.
   *
   * @param key The key.
   * @param value The new value.
   * @returns False when the key was not there (or had expired).
   */
  replace(key: K, value: V): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined || slot.expiresAt <= this.#now()) return false;
    slot.value = value;
    return true;
  }

  /**
   * Removes a key.
   *
   * @param key The key.
   */
  delete(key: K): void {
    this.#slots.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#slots.clear();
  }

  /** Removes the expired entries. */
  sweep(): void {
    const now = this.#now();
    for (const [key, slot] of this.#slots) {
      if (slot.expiresAt <= now) this.#slots.delete(key);
    }
  }

  /**
   * The live entries, for inspection (tests, the penalty gauge).
   *
   * @returns Key and value pairs.
   */
  *entries(): IterableIterator<[K, V]> {
    const now = this.#now();
    for (const [key, slot] of this.#slots) {
      if (slot.expiresAt > now) yield [key, slot.value];
    }
  }
}
