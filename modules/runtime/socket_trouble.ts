/**
 * Errors of a server's accept() or receive() that pass: out of file
 * descriptors or buffers, a connection aborted before it was accepted. The
 * server says so once, pauses and tries again; any other error ends it.
 *
 * @module
 */

/** How long to pause after a passing error before trying again. */
export const TROUBLE_PAUSE_MS = 100;

/** At most one line about passing trouble per this many milliseconds. */
const QUIET_MS = 60_000;

/** errno names that say "not now" rather than "never". */
const PASSING = new Set([
  "EMFILE",
  "ENFILE",
  "ECONNABORTED",
  "ENOBUFS",
  "ENOMEM",
  "EAGAIN",
  "EINTR",
  "EPROTO",
]);

/**
 * Whether an accept() or receive() error passes (try again later).
 *
 * @param error What the call threw.
 * @returns True for EMFILE, ENFILE, ECONNABORTED, ENOBUFS, ENOMEM, EAGAIN,
 *   EINTR and EPROTO.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPassingError } from "./socket_trouble.ts";
 * assert.equal(isPassingError(Object.assign(new Error("Too many open files"), { code: "EMFILE" })), true);
 * ```
 */
export function isPassingError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && PASSING.has(code);
}

/**
 * An error in one line, with its errno name when it has one.
 *
 * @param error What was thrown.
 * @returns E.g. "Too many open files (os error 24) (EMFILE)".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError } from "./socket_trouble.ts";
 * assert.equal(describeError(new Error("gone")), "gone");
 * ```
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && !message.includes(code)
    ? `${message} (${code})`
    : message;
}

/**
 * Says something once per spell of trouble, and at most once a minute, so
 * a spell that keeps starting again cannot flood the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OncePerSpell } from "./socket_trouble.ts";
 * const said: string[] = [];
 * const busy = new OncePerSpell((line) => said.push(line));
 * busy.note("busy"); // said
 * busy.note("busy"); // not again
 * assert.deepEqual(said, ["busy"]);
 * busy.cleared();
 * busy.note("busy"); // a new spell, but too soon after the last line: quiet
 * assert.deepEqual(said, ["busy"]);
 * ```
 */
export class OncePerSpell {
  readonly #say: (line: string) => void;
  #inSpell = false;
  #lastLine = -Infinity;

  /**
   * @param say Where the line goes.
   */
  constructor(say: (line: string) => void) {
    this.#say = say;
  }

  /**
   * Notes the trouble: says `line` when a spell starts.
   *
   * @param line What to say.
   */
  note(line: string): void {
    const now = performance.now();
    if (!this.#inSpell && now - this.#lastLine >= QUIET_MS) {
      this.#say(line);
      this.#lastLine = now;
    }
    this.#inSpell = true;
  }

  /** Notes that things went well again: the spell is over. */
  cleared(): void {
    this.#inSpell = false;
  }
}

/**
 * Reports a passing accept() or receive() error once per spell (see
 * {@linkcode OncePerSpell}), then pauses before the caller tries again.
 *
 * @example
 * ```ts
 * import { PassingTrouble } from "./socket_trouble.ts";
 * const trouble = new PassingTrouble((line) => console.error(line), "accept");
 * await trouble.failed(Object.assign(new Error("Too many open files"), { code: "EMFILE" }));
 * trouble.cleared();
 * ```
 */
export class PassingTrouble {
  readonly #spell: OncePerSpell;
  readonly #what: string;

  /**
   * @param warn Where the line goes.
   * @param what What failed, e.g. "accept on /run/cvm.sock".
   */
  constructor(warn: (line: string) => void, what: string) {
    this.#spell = new OncePerSpell(warn);
    this.#what = what;
  }

  /**
   * Notes a passing error: says so when a spell starts, then pauses.
   *
   * @param error What the call threw.
   * @returns Settles after the pause.
   */
  async failed(error: unknown): Promise<void> {
    this.#spell.note(`${this.#what}: ${describeError(error)}; pausing`);
    await pause(TROUBLE_PAUSE_MS);
  }

  /** Notes a success: the spell is over. */
  cleared(): void {
    this.#spell.cleared();
  }
}

/**
 * Waits a moment.
 *
 * @param ms Milliseconds.
 * @returns Settles after `ms`.
 * @example
 * ```ts
 * import { pause } from "./socket_trouble.ts";
 * await pause(1);
 * ```
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
