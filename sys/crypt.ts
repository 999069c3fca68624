/**
 * crypt(3) through the system's libxcrypt: every scheme it knows (DES, MD5
 * `$1$`, SHA-256 `$5$`, SHA-512 `$6$`, bcrypt `$2b$`, yescrypt `$y$`, scrypt
 * `$7$`, …), hashed off the event loop, at most one hash per CPU at a time.
 *
 * @module
 */

import { toBytes } from "../protocol/mod.ts";
import { cString, lazy, readCString } from "./ffi.ts";

// sizeof(struct crypt_data) in libxcrypt (checked with a C program on
// Debian 12); crypt_rn refuses a smaller buffer.
const CRYPT_DATA_SIZE = 32768;

const libcrypt = lazy(() =>
  Deno.dlopen("libcrypt.so.1", {
    // Nonblocking: yescrypt/bcrypt cost tens of milliseconds, which must not
    // stall the other requests a server is handling.
    crypt_rn: {
      parameters: ["buffer", "buffer", "buffer", "i32"],
      result: "pointer",
      nonblocking: true,
    },
    crypt_gensalt_rn: {
      parameters: ["pointer", "u64", "pointer", "i32", "buffer", "i32"],
      result: "pointer",
    },
  })
);

// CRYPT_GENSALT_OUTPUT_SIZE in libxcrypt's crypt.h.
const GENSALT_OUTPUT_SIZE = 192;

/**
 * A setting (scheme, cost and a random salt) for libxcrypt's default
 * scheme at its default cost: what the system makes new hashes with.
 *
 * @returns The setting, e.g. `$y$j9T$…` on Debian; undefined if libxcrypt refuses.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultCryptSetting } from "./crypt.ts";
 * const setting = defaultCryptSetting(); // e.g. "$y$j9T$F5Jx5fExrKuJdljLajF2B1"
 * if (setting !== undefined) assert.match(setting, /^\$/);
 * ```
 */
export function defaultCryptSetting(): string | undefined {
  const output = new Uint8Array(GENSALT_OUTPUT_SIZE);
  // NULL prefix: the default scheme; NULL random bytes: from the system.
  const result = libcrypt().symbols.crypt_gensalt_rn(
    null,
    0n,
    null,
    0,
    output,
    output.length,
  );
  const setting = readCString(result);
  return result === null || setting === "" || setting.startsWith("*")
    ? undefined
    : setting;
}

/**
 * A setting (scheme prefix, cost and a fresh random salt) from libxcrypt's
 * crypt_gensalt, for making a new hash: `$6$` with count 0 is SHA-512 at
 * its default 5000 rounds (no `rounds=` written), `$2y$` with count 12 is
 * bcrypt at cost 12, `""` is traditional DES.
 *
 * @param prefix The scheme's prefix (`$1$`, `$5$`, `$6$`, `$2y$`, `$y$`, …,
 *   `""` for DES); undefined for libxcrypt's default scheme.
 * @param count The cost (rounds, log2 cost …) as the scheme reads it; 0
 *   for the scheme's default.
 * @returns The setting, or undefined when libxcrypt refuses the prefix or
 *   the count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cryptGensalt } from "./crypt.ts";
 * assert.equal(cryptGensalt("$5$", 0)?.startsWith("$5$"), true);
 * assert.equal(cryptGensalt("$6$", 10000)?.startsWith("$6$rounds=10000$"), true);
 * ```
 */
export function cryptGensalt(
  prefix: string | undefined,
  count: number,
): string | undefined {
  const prefixC = prefix === undefined ? undefined : cString(prefix);
  if (prefix !== undefined && prefixC === undefined) return undefined;
  if (!Number.isSafeInteger(count) || count < 0) return undefined;
  const output = new Uint8Array(GENSALT_OUTPUT_SIZE);
  // NULL random bytes: libxcrypt reads them from the system itself.
  const result = libcrypt().symbols.crypt_gensalt_rn(
    prefixC === undefined ? null : Deno.UnsafePointer.of(prefixC),
    BigInt(count),
    null,
    0,
    output,
    output.length,
  );
  const setting = readCString(result);
  return result === null || setting === "" || setting.startsWith("*")
    ? undefined
    : setting;
}

/**
 * Hands out a fixed number of turns, first come first served. Each
 * nonblocking call takes a thread of the runtime's pool (up to 512), and a
 * yescrypt hash touches 16 MiB while it runs: without a bound a flood of
 * wrong passwords runs hundreds of hashes at once, each slower for the
 * others, and memory grows with them. More hashes than CPUs gain nothing.
 */
class Turns {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = count;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** The process's hashing turns: one per CPU (the thread pool is per process too). */
const hashing = lazy(() =>
  new Turns(Math.max(1, navigator.hardwareConcurrency || 1))
);

/**
 * Hashes a passphrase with crypt(3), the scheme and salt taken from `setting`.
 *
 * @param phrase The passphrase bytes; one containing a NUL is never hashed.
 * @param setting A salt/setting string or a complete stored hash.
 * @returns The hash, or undefined when crypt rejects the input (NULL or a `*` failure token).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crypt } from "./crypt.ts";
 * const hash = await crypt(new TextEncoder().encode("secret"), "$1$abcdefgh$");
 * assert.equal(hash, "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1");
 * ```
 */
export async function crypt(
  phrase: Uint8Array,
  setting: string,
): Promise<string | undefined> {
  const phraseC = cString(phrase);
  const settingC = cString(setting);
  if (phraseC === undefined || settingC === undefined) return undefined;
  return await hashing().run(async () => {
    // A fresh crypt_data per call: concurrent hashes on worker threads never
    // share scratch space. Made once this hash's turn has come, so requests
    // waiting for a turn hold no such buffer.
    const data = new Uint8Array(CRYPT_DATA_SIZE);
    const result = await libcrypt().symbols.crypt_rn(
      phraseC,
      settingC,
      data,
      data.length,
    );
    // The result points into `data`. Wiping the buffers afterwards removes
    // the passphrase copies and also keeps every buffer alive until the
    // worker thread is done with it.
    const hash = readCString(result);
    for (const buffer of [phraseC, settingC, data]) buffer.fill(0);
    return result === null || hash === "" || hash.startsWith("*")
      ? undefined
      : hash;
  });
}

/**
 * Checks a passphrase against a stored crypt(3) hash.
 *
 * @param phrase The passphrase bytes.
 * @param stored The stored hash; empty or unusable (e.g. `*`, `!...`) never matches.
 * @returns True when crypt(phrase, stored) reproduces `stored` exactly.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyCrypt } from "./crypt.ts";
 * const secret = new TextEncoder().encode("secret");
 * assert.equal(await verifyCrypt(secret, "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1"), true);
 * assert.equal(await verifyCrypt(secret, "$1$abcdefgh$..."), false);
 * ```
 */
export async function verifyCrypt(
  phrase: Uint8Array,
  stored: string,
): Promise<boolean> {
  if (stored === "") return false;
  const hash = await crypt(phrase, stored);
  return hash !== undefined && constantTimeEqual(hash, stored);
}

// Compares without an early exit, so timing does not reveal how many
// leading characters of a guess were right.
function constantTimeEqual(a: string, b: string): boolean {
  const x = toBytes(a);
  const y = toBytes(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % y.length] ?? 0);
  return diff === 0;
}
