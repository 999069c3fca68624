/**
 * Every connection's deadline on one timer. A local server gives each
 * connection the same time for its request and again for its reply, so
 * deadlines come due in the order they were set: a queue, with one timer
 * armed for the oldest live one, serves them all. Setting a deadline costs
 * one small object, and meeting it one flag, where a timer per connection
 * cost a `setTimeout`/`clearTimeout` pair.
 *
 * The timer is `AbortSignal.timeout`, a web timer: the first `setTimeout`
 * loads Deno's Node-compatible timers, about 3 MB of a server's memory.
 *
 * @module
 */

/** A deadline that was set; `done()` once what it guarded finished in time. */
export interface Deadline {
  /** Whether it still stands (not met, not expired). */
  readonly live: boolean;
  /** Takes it back: what it guarded finished in time. */
  done(): void;
}

class Entry implements Deadline {
  live = true;
  constructor(
    readonly at: number,
    readonly expire: () => void,
    readonly queue: DeadlineQueue,
  ) {}

  done(): void {
    if (!this.live) return;
    this.live = false;
    this.queue.settled();
  }
}

/**
 * Deadlines of one fixed length, due in the order they were set, on one
 * timer. The callback of a deadline that expires runs at its due time
 * (give or take the timer's own lateness), as with `setTimeout`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineQueue } from "./deadline_queue.ts";
 * const deadlines = new DeadlineQueue(50);
 * let cut = false;
 * deadlines.set(() => cut = true); // a silent client: cut after 50 ms
 * const met = deadlines.set(() => {});
 * met.done(); // this one finished in time
 * await new Promise((r) => setTimeout(r, 80));
 * assert.equal(cut, true);
 * deadlines.close();
 * ```
 */
export class DeadlineQueue {
  readonly #ms: number;
  #queue: Entry[] = [];
  #head = 0;
  #live = 0;
  /** Whether a timer is armed, and which: an older one that fires is ignored. */
  #armed = false;
  #generation = 0;
  #closing = false;

  /**
   * @param ms How long each deadline gives, in milliseconds.
   */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** How many deadlines stand. */
  get size(): number {
    return this.#live;
  }

  /**
   * Sets a deadline `ms` from now.
   *
   * @param expire Called if it is not met in time.
   * @returns The deadline; call `done()` when what it guards has finished.
   */
  set(expire: () => void): Deadline {
    const entry = new Entry(performance.now() + this.#ms, expire, this);
    this.#compact();
    this.#queue.push(entry);
    this.#live++;
    if (!this.#armed) this.#arm(this.#ms);
    return entry;
  }

  /**
   * Stops the timer once no deadline stands (at once if none does): for a
   * server that has stopped taking work.
   */
  close(): void {
    this.#closing = true;
    if (this.#live === 0) this.#disarm();
  }

  /** One deadline fewer stands (called by `Deadline.done()`). */
  settled(): void {
    this.#live--;
    if (this.#live === 0 && this.#closing) this.#disarm();
  }

  /**
   * Forgets deadlines met in time: those at the head at once, the others
   * when they outnumber the standing ones (a slow client at the head
   * holds the queue), so it stays about as long as the work in flight.
   */
  #compact(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && !queue[this.#head].live) this.#head++;
    const kept = queue.length - this.#head;
    if (kept > 1024 && kept > 4 * this.#live) {
      this.#queue = queue.slice(this.#head).filter((e) => e.live);
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    } else if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
  }

  #arm(ms: number): void {
    this.#armed = true;
    const generation = ++this.#generation;
    AbortSignal.timeout(Math.max(0, Math.ceil(ms))).addEventListener(
      "abort",
      () => {
        if (generation === this.#generation) this.#fire();
      },
      { once: true },
    );
  }

  /** Forgets the timer (it cannot be cleared: when it fires, it is ignored). */
  #disarm(): void {
    this.#armed = false;
    this.#generation++;
    this.#queue = [];
    this.#head = 0;
  }

  #fire(): void {
    this.#armed = false;
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head];
      if (entry.live && entry.at > now) break;
      this.#head++;
      if (entry.live) {
        entry.live = false;
        this.#live--;
        try {
          entry.expire();
        } catch { /* its own business */ }
      }
    }
    this.#compact();
    if (this.#head >= this.#queue.length) return;
    if (this.#closing && this.#live === 0) return this.#disarm();
    this.#arm(this.#queue[this.#head].at - now);
  }
}
