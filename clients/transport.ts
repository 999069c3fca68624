/**
 * What every transport returns.
 *
 * @module
 */

/** The raw outcome of one exchange with a module. */
export interface Exchange {
  /** The reply bytes (at most 513, so an oversized reply is seen as such). */
  reply: Uint8Array;
  /** A command module's exit status; undefined for sockets. */
  status?: number;
}
