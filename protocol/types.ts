/**
 * The plain values that travel through the protocol layer.
 *
 * @module
 */

/** One tagged value: a credential in a request or a fact in a response. */
export interface Tagged {
  /** The credential or fact type number (0–255). */
  type: number;
  /** The raw bytes of the value. */
  value: Uint8Array;
}

/** A parsed request, either protocol version. */
export interface Request {
  /** Protocol version: 1 or 2. */
  version: 1 | 2;
  /** The anti-spoofing bytes to echo (always empty in version 1). */
  random: Uint8Array;
  /** The credentials, in the order they came. */
  credentials: Tagged[];
}

/** A parsed or to-be-encoded response. */
export interface Response {
  /** The result code (see `ErrorCode`). */
  code: number;
  /** The random bytes echoed from the request (version 2 only). */
  random: Uint8Array;
  /** The facts, in wire order. */
  facts: Tagged[];
}

/** The outcome of parsing: the value, or the result code to answer with and why. */
export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; code: number; reason: string };
