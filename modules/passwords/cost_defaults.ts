/**
 * The cost of a new hash when none is asked for, scheme by scheme: one
 * small file, so that the defaults can be read (by `cvm pw -h`, the README)
 * without loading any scheme's code.
 *
 * @module
 */

/**
 * BLF-CRYPT's log2 cost. Dovecot makes 5, too cheap for a password today;
 * 10 costs about 0.1 s of CPU here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BLF_COST } from "./cost_defaults.ts";
 * assert.equal(DEFAULT_BLF_COST, 10);
 * ```
 */
export const DEFAULT_BLF_COST = 10;

/**
 * PBKDF2's iterations. Dovecot makes 5000, far too few for a password
 * today; 100,000 cost about 40 ms here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PBKDF2_ROUNDS } from "./cost_defaults.ts";
 * assert.equal(DEFAULT_PBKDF2_ROUNDS, 100000);
 * ```
 */
export const DEFAULT_PBKDF2_ROUNDS = 100_000;

/**
 * SCRAM's iterations: RFC 7677's minimum, and Dovecot's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SCRAM_ROUNDS } from "./cost_defaults.ts";
 * assert.equal(DEFAULT_SCRAM_ROUNDS, 4096);
 * ```
 */
export const DEFAULT_SCRAM_ROUNDS = 4096;

/**
 * Argon2's cost per variant: libsodium's "interactive" limits, which
 * Dovecot uses (ARGON2ID 64 MiB and 3 passes, ARGON2I 32 MiB and 4
 * passes), one lane.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ARGON2_DEFAULTS } from "./cost_defaults.ts";
 * assert.equal(ARGON2_DEFAULTS.argon2id.memoryKiB, 65536);
 * ```
 */
export const ARGON2_DEFAULTS: Readonly<
  Record<
    "argon2i" | "argon2id",
    { rounds: number; memoryKiB: number; parallelism: number }
  >
> = {
  argon2id: { rounds: 3, memoryKiB: 65536, parallelism: 1 },
  argon2i: { rounds: 4, memoryKiB: 32768, parallelism: 1 },
};
