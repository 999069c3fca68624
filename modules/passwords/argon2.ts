/**
 * `ARGON2I` and `ARGON2ID` as Dovecot (libsodium) stores them:
 * `$argon2id$v=19$m=65536,t=3,p=1$SALT$HASH`, salt and hash in base64
 * without padding. Either variant verifies under either name, as
 * libsodium's check does. The hashing runs in Web Workers (one per CPU at
 * most, stopped when idle), since a memory-hard hash takes tens of
 * milliseconds of CPU that must not stall the other clients of a server.
 *
 * @module
 */

import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import type {
  Argon2Answer,
  Argon2Job,
  Argon2Request,
} from "./argon2_worker.ts";
import { ARGON2_DEFAULTS } from "./cost_defaults.ts";
import { fromBase64 } from "./encoding.ts";
import type { HashParams, SchemeCode } from "./scheme.ts";
import { randomBytes, verdict } from "./scheme.ts";

/** The variants. */
export type Argon2Variant = "argon2i" | "argon2id";

/** The salt and hash lengths of a new value (as libsodium). */
const SALT_LENGTH = 16;
const HASH_LENGTH = 32;

/** How long an idle worker is kept, in milliseconds. */
const IDLE_MS = 10_000;

/** A parsed Argon2 string. */
interface Argon2Stored {
  variant: Argon2Variant;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

/** Base64 without padding, as the PHC string format writes it. */
function fromUnpadded(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  return fromBase64(text + "=".repeat((4 - (text.length % 4)) % 4));
}

function toUnpadded(bytes: Uint8Array): string {
  return bytes.toBase64({ omitPadding: true });
}

const FORM =
  /^\$(argon2id|argon2i)\$v=19\$m=([0-9]{1,10}),t=([0-9]{1,10}),p=([0-9]{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * Reads an Argon2 string (version 19 only, as libsodium).
 *
 * @param text The stored text.
 * @returns Its parts, or undefined when it is not such a string.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgon2 } from "./argon2.ts";
 * assert.equal(parseArgon2("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")?.memoryKiB, 64);
 * ```
 */
export function parseArgon2(text: string): Argon2Stored | undefined {
  const match = FORM.exec(text);
  if (!match) return undefined;
  const [memoryKiB, iterations, parallelism] = [2, 3, 4].map((i) =>
    Number(match[i])
  );
  const salt = fromUnpadded(match[5]);
  const hash = fromUnpadded(match[6]);
  if (
    salt === undefined || hash === undefined || salt.length < 8 ||
    hash.length < 4 || iterations < 1 || parallelism < 1 ||
    memoryKiB < 8 * parallelism || memoryKiB > 0x400000 // 4 GiB: WebAssembly's limit
  ) {
    return undefined;
  }
  return {
    variant: match[1] as Argon2Variant,
    memoryKiB,
    iterations,
    parallelism,
    salt,
    hash,
  };
}

/** One worker and the job it is on. */
interface PoolWorker {
  worker: Worker;
  busy: boolean;
  idleTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Runs Argon2 jobs on at most `size` workers, first come first served;
 * a worker idle for a while is stopped (its WebAssembly memory with it).
 */
class Argon2Pool {
  readonly #size: number;
  readonly #workers: PoolWorker[] = [];
  readonly #queue: {
    job: Argon2Job;
    resolve: (hash: Uint8Array) => void;
    reject: (e: Error) => void;
  }[] = [];
  readonly #pending = new Map<
    number,
    {
      resolve: (hash: Uint8Array) => void;
      reject: (e: Error) => void;
      on: PoolWorker;
    }
  >();
  #nextId = 1;
  #inline = false;

  constructor(size: number) {
    this.#size = size;
  }

  run(job: Argon2Job): Promise<Uint8Array> {
    if (this.#inline) return computeInline(job);
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const free = this.#workers.find((w) => !w.busy) ?? this.#spawn();
      if (free === undefined) return;
      const { job, resolve, reject } = this.#queue.shift()!;
      if (free === "inline") {
        computeInline(job).then(resolve, reject);
        continue;
      }
      clearTimeout(free.idleTimer);
      free.busy = true;
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject, on: free });
      const request: Argon2Request = { id, job };
      // The password goes over by transfer: no copy stays behind here.
      free.worker.postMessage(request, [job.password.buffer]);
    }
  }

  /** A new worker, "inline" when workers cannot start, or undefined when all are busy. */
  #spawn(): PoolWorker | "inline" | undefined {
    if (this.#workers.length >= this.#size) return undefined;
    let worker: Worker;
    try {
      worker = new Worker(new URL("./argon2_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch {
      this.#inline = true;
      return "inline";
    }
    const entry: PoolWorker = { worker, busy: false };
    worker.onmessage = ({ data }: MessageEvent<Argon2Answer>) => {
      const pending = this.#pending.get(data.id);
      if (pending === undefined) return;
      this.#pending.delete(data.id);
      if (data.hash) pending.resolve(data.hash);
      else pending.reject(new Error(`Argon2: ${data.error}`));
      this.#release(entry);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#drop(entry, new Error(`Argon2 worker: ${event.message}`));
    };
    this.#workers.push(entry);
    return entry;
  }

  #release(entry: PoolWorker): void {
    entry.busy = false;
    const timer = setTimeout(() => this.#drop(entry), IDLE_MS);
    // An idle worker must not keep a finished program running.
    Deno.unrefTimer(timer as unknown as number);
    entry.idleTimer = timer;
    this.#dispatch();
  }

  /** Stops a worker; a job it was on fails with `error`. */
  #drop(entry: PoolWorker, error?: Error): void {
    clearTimeout(entry.idleTimer);
    entry.worker.terminate();
    this.#workers.splice(this.#workers.indexOf(entry), 1);
    for (const [id, pending] of this.#pending) {
      if (pending.on !== entry) continue;
      this.#pending.delete(id);
      pending.reject(error ?? new Error("Argon2 worker stopped"));
    }
    this.#dispatch();
  }

  /** Stops every idle worker now (a test's clean-up). */
  stopIdle(): void {
    for (const entry of [...this.#workers]) {
      if (!entry.busy) this.#drop(entry);
    }
  }
}

/** The fallback where no worker can start: the same code on this thread. */
async function computeInline(job: Argon2Job): Promise<Uint8Array> {
  const { computeArgon2 } = await import("./argon2_worker.ts");
  return await computeArgon2(job);
}

// One pool per process, made on first use, as crypt(3)'s hashing turns:
// the CPUs it shares out are the process's, whichever backend asks.
let pool: Argon2Pool | undefined;

/** The process's pool: one worker per CPU, as the crypt(3) turns. */
function argon2Pool(): Argon2Pool {
  return pool ??= new Argon2Pool(
    Math.max(1, navigator.hardwareConcurrency || 1),
  );
}

/**
 * Stops the Argon2 workers that are idle, so that a test ends with no
 * worker running. Servers never need it: idle workers stop by themselves.
 *
 * @example
 * ```ts
 * import { stopIdleArgon2Workers } from "./argon2.ts";
 * stopIdleArgon2Workers();
 * ```
 */
export function stopIdleArgon2Workers(): void {
  pool?.stopIdle();
}

/**
 * Computes an Argon2 hash on a worker.
 *
 * @param job The computation (its password is handed over and wiped).
 * @returns The raw hash.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { argon2, stopIdleArgon2Workers } from "./argon2.ts";
 * const hash = await argon2({
 *   variant: "argon2i", password: new TextEncoder().encode("pw"),
 *   salt: new Uint8Array(16), iterations: 1, memoryKiB: 64, parallelism: 1,
 *   hashLength: 16,
 * });
 * stopIdleArgon2Workers();
 * assert.equal(hash.length, 16);
 * ```
 */
export function argon2(job: Argon2Job): Promise<Uint8Array> {
  return argon2Pool().run(job);
}

/** Makes a new Argon2 string. */
async function make(
  variant: Argon2Variant,
  password: Uint8Array,
  params: Required<HashParams>,
): Promise<Uint8Array> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await argon2({
    variant,
    password: password.slice(),
    salt,
    iterations: params.rounds,
    memoryKiB: params.memoryKiB,
    parallelism: params.parallelism,
    hashLength: HASH_LENGTH,
  });
  return toBytes(
    `$${variant}$v=19$m=${params.memoryKiB},t=${params.rounds},p=${params.parallelism}$${
      toUnpadded(salt)
    }$${toUnpadded(hash)}`,
  );
}

/**
 * An Argon2 scheme's code. New values use `rounds` passes, `memoryKiB`
 * and `parallelism` lanes, each defaulting to `ARGON2_DEFAULTS`.
 *
 * @param variant The variant new values get.
 * @returns The code.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { argon2Scheme, stopIdleArgon2Workers } from "./argon2.ts";
 * const scheme = argon2Scheme("argon2id");
 * const pw = new TextEncoder().encode("pw");
 * const raw = await scheme.generate(pw, { rounds: 1, memoryKiB: 64 });
 * assert.equal(await scheme.verify(pw, raw), "match");
 * stopIdleArgon2Workers();
 * ```
 */
export function argon2Scheme(variant: Argon2Variant): SchemeCode {
  const defaults = ARGON2_DEFAULTS[variant];
  return {
    generate: (password: Uint8Array, params: HashParams) =>
      make(variant, password, {
        rounds: params.rounds || defaults.rounds,
        memoryKiB: params.memoryKiB || defaults.memoryKiB,
        parallelism: params.parallelism || defaults.parallelism,
      }),
    async verify(password, raw) {
      const stored = parseArgon2(new TextDecoder().decode(raw));
      if (stored === undefined) return "unusable";
      const hash = await argon2({
        variant: stored.variant,
        password: password.slice(),
        salt: stored.salt,
        iterations: stored.iterations,
        memoryKiB: stored.memoryKiB,
        parallelism: stored.parallelism,
        hashLength: stored.hash.length,
      });
      return verdict(bytesEqual(hash, stored.hash));
    },
  };
}
