/**
 * The penalty: failures are counted per client address (IPv6 per /64) and
 * per account, and an attempt first waits the larger of the two counters'
 * delays: none after no failure, then `base` (2 s), doubling up to `max`
 * (15 s). An attempt is counted as it starts, so that parallel guesses from
 * one address wait as sequential ones do; a success resets the counters it
 * was counted in (and lets attempts waiting on them go at once), a
 * temporary failure takes its count back, and the same credentials failing
 * again (a client with an old password saved) do not raise a counter.
 * Addresses in trusted networks are neither counted nor delayed.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { asciiLower, ErrorCode } from "../../protocol/mod.ts";
import {
  inNetworks,
  type IpAddress,
  type Network,
  penaltyAddressKey,
} from "./address.ts";
import { LruMap } from "./_lru.ts";
import { MEMORY_COUNTERS, type StateStore } from "./store.ts";

/** How long a counter is kept after its last failure. */
export const PENALTY_FORGET_MS = 15 * 60_000;

/** The penalty's settings. */
export interface PenaltySettings {
  /** The first delay, in ms (default 2000). */
  baseMs: number;
  /** The longest delay, in ms (default 15000). */
  maxMs: number;
  /** Networks never penalized. */
  trusted: readonly Network[];
}

/**
 * The delay owed after some failures: 0, then `baseMs`, doubling, at most
 * `maxMs`.
 *
 * @param failures The failures counted before this attempt.
 * @param baseMs The first delay.
 * @param maxMs The cap.
 * @returns Milliseconds to wait.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { penaltyDelay } from "./penalty.ts";
 * assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => penaltyDelay(n, 2000, 15000)), [0, 2000, 4000, 8000, 15000, 15000]);
 * ```
 */
export function penaltyDelay(
  failures: number,
  baseMs: number,
  maxMs: number,
): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

/** One attempt's place in the counters, from `begin` to `finish`. */
export interface PenaltyTicket {
  /** The counters it was counted in. */
  readonly keys: readonly string[];
  /** Each counter's local reset count when it was counted. */
  readonly epochs: readonly number[];
  /** How long it waited, in ms. */
  waitedMs: number;
}

/**
 * The penalty layer over a state store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Penalty } from "./penalty.ts";
 * import { MemoryStore } from "./store.ts";
 * import { parseIp } from "./address.ts";
 * const penalty = new Penalty(new MemoryStore(10), { baseMs: 10, maxMs: 40, trusted: [] });
 * const ticket = await penalty.begin(parseIp("192.0.2.1"), "bob", undefined);
 * await penalty.finish(ticket, 100, "credential-key");
 * assert.equal(penalty.active(), 2); // the address and the account
 * ```
 */
export class Penalty {
  readonly #store: StateStore;
  readonly #settings: PenaltySettings;
  /** Local resets per counter: a waiter whose counter is reset goes at once. */
  readonly #epochs = new LruMap<string, number>(MEMORY_COUNTERS);
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Counters this process saw fail and not yet reset or forgotten. */
  readonly #penalized = new LruMap<string, true>(MEMORY_COUNTERS);

  /**
   * @param store Where the counters live.
   * @param settings Base, cap and trusted networks.
   */
  constructor(store: StateStore, settings: PenaltySettings) {
    this.#store = store;
    this.#settings = settings;
  }

  /**
   * How many counters (addresses and accounts) this process saw fail and
   * not yet reset or forgotten.
   *
   * @returns The count.
   */
  active(): number {
    let n = 0;
    for (const _ of this.#penalized.entries()) n++;
    return n;
  }

  /**
   * Counts an attempt as it starts and waits what its counters owe.
   *
   * @param address The client address, when a valid one was sent.
   * @param account The account name.
   * @param domain The domain, when one was sent.
   * @returns The ticket to finish with, or undefined for a trusted address.
   */
  async begin(
    address: IpAddress | undefined,
    account: string,
    domain: string | undefined,
  ): Promise<PenaltyTicket | undefined> {
    if (address && inNetworks(address, this.#settings.trusted)) {
      return undefined;
    }
    const who = domain === undefined ? account : `${account}@${domain}`;
    const digest = createHash("sha256").update(asciiLower(who)).digest("hex");
    const keys = [`account:${digest.slice(0, 40)}`];
    if (address) keys.push(`address:${penaltyAddressKey(address)}`);
    const epochs = keys.map((k) => this.#epochs.get(k) ?? 0);
    const counts = await Promise.all(
      keys.map((k) => this.#store.countUp(k, PENALTY_FORGET_MS)),
    );
    const delays = counts.map((n) =>
      penaltyDelay(n - 1, this.#settings.baseMs, this.#settings.maxMs)
    );
    const ticket: PenaltyTicket = { keys, epochs, waitedMs: 0 };
    const started = performance.now();
    for (;;) {
      const owed = keys.map((k, i) =>
        (this.#epochs.get(k) ?? 0) === epochs[i] ? delays[i] : 0
      );
      const remaining = Math.max(...owed) - (performance.now() - started);
      if (remaining <= 0) break;
      await this.#sleep(keys, remaining);
    }
    ticket.waitedMs = performance.now() - started;
    return ticket;
  }

  /**
   * Updates the counters with an attempt's result: a success resets them,
   * a rejection stands (unless the same credentials failed there lately),
   * anything else is taken back.
   *
   * @param ticket From `begin`.
   * @param code The result code.
   * @param credential The credential key (keyed HMAC) of the attempt.
   */
  async finish(
    ticket: PenaltyTicket | undefined,
    code: number,
    credential: string,
  ): Promise<void> {
    if (ticket === undefined) return;
    await Promise.all(ticket.keys.map(async (key, i) => {
      const resetSince = (this.#epochs.get(key) ?? 0) !== ticket.epochs[i];
      if (code === ErrorCode.OK) {
        await this.#store.countReset(key);
        this.#reset(key);
        return;
      }
      if (code !== ErrorCode.PERMFAIL) {
        if (!resetSince) await this.#store.countDown(key);
        return;
      }
      const repeated = await this.#store.seenFailure(
        key,
        credential,
        PENALTY_FORGET_MS,
      );
      if (repeated && !resetSince) await this.#store.countDown(key);
      if (!repeated && resetSince) {
        await this.#store.countUp(key, PENALTY_FORGET_MS);
      }
      this.#penalized.set(key, true, PENALTY_FORGET_MS);
    }));
  }

  #reset(key: string): void {
    this.#epochs.set(key, (this.#epochs.get(key) ?? 0) + 1, PENALTY_FORGET_MS);
    this.#penalized.delete(key);
    const waiting = this.#waiters.get(key);
    this.#waiters.delete(key);
    for (const wake of waiting ?? []) wake();
  }

  /** Sleeps `ms`, or until one of the keys is reset here. */
  #sleep(keys: readonly string[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        for (const key of keys) {
          const set = this.#waiters.get(key);
          set?.delete(wake);
          if (set?.size === 0) this.#waiters.delete(key);
        }
        resolve();
      };
      const timer = setTimeout(wake, ms);
      for (const key of keys) {
        let set = this.#waiters.get(key);
        if (set === undefined) this.#waiters.set(key, set = new Set());
        set.add(wake);
      }
    });
  }
}
