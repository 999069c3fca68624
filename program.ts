/**
 * What every program of the multiplexed binary gets, and the reference's
 * way of dying: `NAME: Fatal: MESSAGE` on stderr and an exit status.
 *
 * @module
 */

import { toBytes } from "./protocol/mod.ts";

/** How a program was invoked. */
export interface Invocation {
  /** The program name as invoked (basename of argv[0], or the first argument). */
  name: string;
  /** The arguments after the program name (bytes that are not UTF-8 as `toExactText` gives them). */
  args: string[];
  /**
   * The environment, as a plain record; a name or value that is not UTF-8
   * is exact text (`toExactText`), as the arguments are.
   */
  env: Record<string, string | undefined>;
}

/** A program's main: returns its exit status (or never returns). */
export type ProgramMain = (invocation: Invocation) => Promise<number>;

/** A program of the binary: its name, a one-line summary, its main. */
export interface ProgramEntry {
  /** The name it answers to (and the symlink name). */
  name: string;
  /** One line for `cvm --help`. */
  summary: string;
  /** Loads the program's module and runs it. */
  main: ProgramMain;
}

/** An error that ends a program with a message and an exit status. */
export class FatalError extends Error {
  /** The exit status. */
  readonly status: number;
  /** The program name to print, when not the invoked one. */
  readonly program?: string;

  /**
   * Makes the error.
   *
   * @param status The exit status.
   * @param message The text after `NAME: Fatal: ` (may hold more lines).
   * @param program The name to print instead of the invoked one.
   */
  constructor(status: number, message: string, program?: string) {
    super(message);
    this.name = "FatalError";
    this.status = status;
    this.program = program;
  }
}

/**
 * Writes text to stderr at once, exact text as its bytes (`toBytes`).
 *
 * @param text The text, newlines included.
 * @example
 * ```ts
 * import { writeStderr } from "./program.ts";
 * writeStderr("hello\n");
 * ```
 */
export function writeStderr(text: string): void {
  const bytes = toBytes(text);
  let at = 0;
  while (at < bytes.length) at += Deno.stderr.writeSync(bytes.subarray(at));
}

/**
 * Writes text to stdout at once, exact text as its bytes (`toBytes`: a
 * Latin-1 fact is printed as the byte the module sent).
 *
 * @param text The text, newlines included.
 * @example
 * ```ts
 * import { writeStdout } from "./program.ts";
 * writeStdout("hello\n");
 * ```
 */
export function writeStdout(text: string): void {
  const bytes = toBytes(text);
  let at = 0;
  while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
}

/**
 * Reports a fatal error as the reference does and returns the exit status.
 *
 * @param program The program name.
 * @param error The error; a `FatalError` keeps its status, anything else exits 111.
 * @returns The exit status to use.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FatalError, reportFatal } from "./program.ts";
 * assert.equal(reportFatal("cvm-x", new FatalError(1, "Incorrect usage.")), 1);
 * ```
 */
export function reportFatal(program: string, error: unknown): number {
  const status = error instanceof FatalError ? error.status : 111;
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof FatalError && error.program
    ? error.program
    : program;
  writeStderr(`${name}: Fatal: ${message}\n`);
  return status;
}
