/**
 * The work a server has taken on, bounded: the local and UDP servers take
 * a new request only when there is room, and wait for what is left, up to
 * a deadline, when they stop.
 *
 * @module
 */

/** How long a stopping server waits for the requests it has taken on. */
export const STOP_GRACE_MS = 1000;

/** The most requests a server works on at once, unless configured. */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/**
 * The most connections a local server may hold open under an open-file
 * limit: what is left after a reserve for the runtime itself, database
 * connections, files being read and command modules being run (64
 * descriptors, or half of a smaller limit).
 *
 * @param openFileLimit The soft RLIMIT_NOFILE.
 * @returns The cap, at least 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionCap } from "./in_flight.ts";
 * assert.equal(connectionCap(1024), 960);
 * assert.equal(connectionCap(64), 32);
 * ```
 */
export function connectionCap(openFileLimit: number): number {
  if (!Number.isFinite(openFileLimit)) return Number.MAX_SAFE_INTEGER;
  const reserve = Math.min(64, Math.floor(openFileLimit / 2));
  return Math.max(1, openFileLimit - reserve);
}

/**
 * A bounded count of running tasks: a counter, not a set of promises, so
 * that taking on a request costs no allocation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InFlight } from "./in_flight.ts";
 * const work = new InFlight(2);
 * await work.room(); // at once: nothing runs yet
 * work.add(new Promise((r) => setTimeout(r, 10)));
 * assert.equal(await work.settle(1000), true); // it finished in time
 * ```
 */
export class InFlight {
  readonly #limit: number;
  #running = 0;
  #wake: (() => void) | undefined;
  #idle: (() => void)[] = [];
  #closed = false;
  #abandoned = false;

  /**
   * @param limit The most tasks at once (at least 1).
   */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** How many tasks are running. */
  get size(): number {
    return this.#running;
  }

  /** The most tasks at once. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Settles when there is room for one more task, or once `close()` was
   * called. Meant for one waiter at a time (a server's receiving loop).
   *
   * @returns Settles when a task may be added.
   */
  async room(): Promise<void> {
    while (this.#running >= this.#limit && !this.#closed) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /**
   * Counts a task that has started; it must call `leave()` exactly once
   * when it is done, whatever happens.
   */
  enter(): void {
    this.#running++;
  }

  /** Counts a task as done (the pair of `enter()`). */
  leave(): void {
    this.#running--;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    if (this.#running === 0 && this.#idle.length > 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }

  /**
   * Adds a running task; it is counted until it settles (its failure is
   * its own business: it is not rethrown here).
   *
   * @param task The task.
   */
  add(task: Promise<unknown>): void {
    this.enter();
    const leave = () => this.leave();
    task.then(leave, leave);
  }

  /** Lets a waiting `room()` go: the server is stopping. */
  close(): void {
    this.#closed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Whether `settle()` gave up waiting: a task still running then has
   * outlived its server, and must neither log nor reply (a line after
   * `Stopping.` would tell of an answer nobody got).
   */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /**
   * Waits for the running tasks, at most `ms` milliseconds; past that,
   * what still runs is abandoned.
   *
   * @param ms The deadline.
   * @returns True when every task finished in time.
   */
  async settle(ms: number): Promise<boolean> {
    if (this.#running === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const done = await new Promise<boolean>((resolve) => {
        this.#idle.push(() => resolve(true));
        timer = setTimeout(() => resolve(false), ms);
      });
      if (!done) this.#abandoned = true;
      return done;
    } finally {
      clearTimeout(timer);
    }
  }
}
