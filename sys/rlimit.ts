/**
 * The open-file limit (RLIMIT_NOFILE) through libc's getrlimit and
 * setrlimit: servers raise their soft limit to the hard one at start and
 * size their connection cap below it.
 *
 * @module
 */

import { errno, errnoError, lazy } from "./ffi.ts";

const libc = lazy(() =>
  Deno.dlopen("libc.so.6", {
    getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  })
);

/** RLIMIT_NOFILE on Linux (x86-64 and arm64 alike). */
const RLIMIT_NOFILE = 7;

/** A soft and a hard limit; `Infinity` stands for RLIM_INFINITY. */
export interface Limit {
  /** The limit in force. */
  soft: number;
  /** The most the soft limit may be raised to without privilege. */
  hard: number;
}

const INFINITY = 0xffffffffffffffffn;

function toNumber(value: bigint): number {
  return value === INFINITY ? Infinity : Number(value);
}

function toRlim(value: number): bigint {
  return value === Infinity ? INFINITY : BigInt(value);
}

/**
 * The process's open-file limits (getrlimit(RLIMIT_NOFILE)).
 *
 * @returns The soft and hard limits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getOpenFileLimit } from "./rlimit.ts";
 * const { soft, hard } = getOpenFileLimit();
 * assert.equal(soft <= hard, true);
 * ```
 */
export function getOpenFileLimit(): Limit {
  const slot = new BigUint64Array(2);
  if (libc().symbols.getrlimit(RLIMIT_NOFILE, slot) !== 0) {
    throw errnoError("getrlimit(RLIMIT_NOFILE)", errno());
  }
  return { soft: toNumber(slot[0]), hard: toNumber(slot[1]) };
}

/**
 * Sets the process's open-file limits (setrlimit(RLIMIT_NOFILE)).
 *
 * @param limit The new soft and hard limits.
 * @returns Nothing; throws an Error naming setrlimit and errno on failure.
 * @example
 * ```ts
 * import { getOpenFileLimit, setOpenFileLimit } from "./rlimit.ts";
 * setOpenFileLimit(getOpenFileLimit()); // unchanged
 * ```
 */
export function setOpenFileLimit(limit: Limit): void {
  const slot = new BigUint64Array([toRlim(limit.soft), toRlim(limit.hard)]);
  if (libc().symbols.setrlimit(RLIMIT_NOFILE, slot) !== 0) {
    throw errnoError(
      `setrlimit(RLIMIT_NOFILE, ${limit.soft}, ${limit.hard})`,
      errno(),
    );
  }
}

/** The open-file limits as /proc/self/limits shows them, if it can be read. */
function procOpenFileLimit(): Limit | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    if (m === null) return undefined;
    const value = (v: string) => v === "unlimited" ? Infinity : Number(v);
    return { soft: value(m[1]), hard: value(m[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Raises the soft open-file limit to the hard limit (what a server may use
 * without privilege), and returns the limit now in force.
 *
 * @returns The soft limit after raising (unchanged when raising failed).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getOpenFileLimit, raiseOpenFileLimit } from "./rlimit.ts";
 * assert.equal(raiseOpenFileLimit() === getOpenFileLimit().soft, true);
 * ```
 */
export function raiseOpenFileLimit(): number {
  // Read without FFI where it can be: loading libc's bindings costs a
  // server about 2.5 MB, and most have nothing to raise.
  const limit = procOpenFileLimit() ?? getOpenFileLimit();
  if (limit.soft >= limit.hard) return limit.soft;
  try {
    setOpenFileLimit({ soft: limit.hard, hard: limit.hard });
  } catch {
    // The kernel's own ceiling (fs.nr_open) can be below an old hard
    // limit: keep what we have rather than fail the start.
    return limit.soft;
  }
  return limit.hard;
}
