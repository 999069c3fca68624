/**
 * The Argon2 computation, from `hash-wasm` (WebAssembly), and the worker
 * that runs it: started as a Web Worker by `argon2.ts`, it computes one
 * hash per message, so a memory-hard hash never holds up the event loop
 * that serves other clients. Imported as a plain module it only exports
 * {@linkcode computeArgon2} (the fallback where no worker can start).
 *
 * @module
 */

/** One Argon2 computation. */
export interface Argon2Job {
  /** The variant. */
  variant: "argon2i" | "argon2id";
  /** The password (handed over: wiped once used). */
  password: Uint8Array<ArrayBuffer>;
  /** The salt (at least 8 bytes). */
  salt: Uint8Array;
  /** Passes over memory (t). */
  iterations: number;
  /** Memory in KiB (m). */
  memoryKiB: number;
  /** Lanes (p). */
  parallelism: number;
  /** The length of the hash, in bytes. */
  hashLength: number;
}

/** A job as sent to a worker, with the id its answer carries. */
export interface Argon2Request {
  /** Matches the answer to the job. */
  id: number;
  /** The job. */
  job: Argon2Job;
}

/** A worker's answer: the hash, or why there is none. */
export interface Argon2Answer {
  /** The request's id. */
  id: number;
  /** The hash. */
  hash?: Uint8Array;
  /** What went wrong (a message without the password). */
  error?: string;
}

/**
 * Computes an Argon2 hash (version 19) with hash-wasm, and wipes the
 * password it was given.
 *
 * @param job The computation.
 * @returns The raw hash.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeArgon2 } from "./argon2_worker.ts";
 * const hash = await computeArgon2({
 *   variant: "argon2id", password: new TextEncoder().encode("pw"),
 *   salt: new Uint8Array(16), iterations: 1, memoryKiB: 64, parallelism: 1,
 *   hashLength: 32,
 * });
 * assert.equal(hash.length, 32);
 * ```
 */
export async function computeArgon2(job: Argon2Job): Promise<Uint8Array> {
  const { argon2i, argon2id } = await import("hash-wasm");
  const run = job.variant === "argon2i" ? argon2i : argon2id;
  try {
    return await run({
      password: job.password,
      salt: job.salt,
      iterations: job.iterations,
      memorySize: job.memoryKiB,
      parallelism: job.parallelism,
      hashLength: job.hashLength,
      outputType: "binary",
    });
  } finally {
    job.password.fill(0);
  }
}

/** Answers jobs when this file runs as a worker. */
function serveJobs(scope: {
  onmessage: ((event: MessageEvent<Argon2Request>) => void) | null;
  postMessage(answer: Argon2Answer, transfer: Transferable[]): void;
}): void {
  scope.onmessage = async ({ data: { id, job } }) => {
    try {
      const hash = await computeArgon2(job);
      scope.postMessage({ id, hash }, [hash.buffer as ArrayBuffer]);
    } catch (e) {
      scope.postMessage({ id, error: (e as Error).message ?? String(e) }, []);
    }
  };
}

// WorkerGlobalScope exists only inside a worker.
if ("WorkerGlobalScope" in globalThis) {
  serveJobs(globalThis as unknown as Parameters<typeof serveJobs>[0]);
}
