/**
 * How a server's life ends: on `stop()` (close the socket, wait for the
 * work in flight up to a deadline, close the backend, log `Stopping.`), or
 * by itself when its socket fails, which the program turns into a
 * non-zero exit. Shared by the local and UDP servers.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import type { LogSink } from "./log.ts";
import { type InFlight, STOP_GRACE_MS } from "./in_flight.ts";

/** A running server: how to stop it, and how it ended. */
export interface RunningServer {
  /**
   * Stops: closes the socket (a local socket's file is removed), waits for
   * the requests in flight at most `STOP_GRACE_MS`, closes the
   * backend and logs `Stopping.`.
   */
  stop(): Promise<void>;
  /**
   * Settles when the server has stopped; rejects, with the error, when it
   * ended by itself (its socket failed) rather than through `stop()`.
   */
  finished: Promise<void>;
}

/**
 * Closes a backend, waiting at most `ms` (a hung database must not keep a
 * stopping server alive).
 *
 * @param backend The backend.
 * @param ms The deadline.
 * @returns Settles when closed or when the deadline passed.
 */
export async function closeBackend<A>(
  backend: Backend<A>,
  ms: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      backend.close?.().catch(() => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a server's receiving loop and gives it its ending: on `stop()`, or
 * when the loop fails by itself, the socket is closed, the work in flight
 * is given {@linkcode STOP_GRACE_MS} to finish, and the backend is closed.
 *
 * @param loop The receiving loop: returns once `stopped()` is true (its
 *   socket was closed), throws when its socket fails.
 * @param closeSocket Closes the socket, so that no new work comes in.
 * @param work The work in flight.
 * @param backend The backend, closed last.
 * @param log Where `Stopping.` goes (only after `stop()`).
 * @returns The running server.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runServerLoop } from "./server_life.ts";
 * import { InFlight } from "./in_flight.ts";
 * const lines: string[] = [];
 * const backend = {
 *   lookup: () => Promise.resolve(undefined),
 *   authenticate: () => Promise.resolve(false),
 *   results: () => ({ username: "", userid: 0, groupid: 0, directory: "" }),
 * };
 * let wake = () => {};
 * const server = runServerLoop(
 *   (stopped) => new Promise<void>((r) => wake = () => stopped() && r()),
 *   () => wake(), new InFlight(1), backend, (line) => lines.push(line));
 * await server.stop();
 * assert.deepEqual(lines, ["Stopping."]);
 * ```
 */
export function runServerLoop<A>(
  loop: (stopped: () => boolean) => Promise<void>,
  closeSocket: () => void,
  work: InFlight,
  backend: Backend<A>,
  log: LogSink,
): RunningServer {
  let stopRequested = false;
  let winding: Promise<void> | undefined;
  const wind = () =>
    winding ??= (async () => {
      stopRequested = true;
      work.close();
      closeSocket();
      await work.settle(STOP_GRACE_MS);
      await closeBackend(backend, STOP_GRACE_MS);
    })();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await wind();
      log("Stopping.");
    })();
  const finished = loop(() => stopRequested).then(
    () => stopping ?? stop(),
    async (error) => {
      if (stopping !== undefined) return await stopping;
      // Ended by itself: clean up, then say why (the program exits
      // non-zero, so that a supervisor starts it again).
      await wind();
      throw error;
    },
  );
  return { stop, finished };
}
