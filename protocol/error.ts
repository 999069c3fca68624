/**
 * The error type for a failure that carries a CVM result code.
 *
 * @module
 */

/**
 * An error with the CVM result code that describes it. Thrown by encoders and
 * by module backends for temporary failures (a dead database is `IO`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CvmError } from "./error.ts";
 * import { ErrorCode } from "./codes.ts";
 * const e = new CvmError(ErrorCode.IO, "database unreachable");
 * assert.equal(e.code, 4);
 * ```
 */
export class CvmError extends Error {
  /** The CVM result code. */
  readonly code: number;

  /**
   * Makes the error.
   *
   * @param code The result code.
   * @param message Why, for a log; never a secret.
   */
  constructor(code: number, message: string) {
    super(message);
    this.name = "CvmError";
    this.code = code;
  }
}
