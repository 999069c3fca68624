/**
 * Local mode: a Unix stream socket, one request and one reply per
 * connection, many connections served at once, up to a bound; the others
 * wait in the kernel's listen backlog.
 *
 * @module
 */

import { MAX_PACKET } from "../../protocol/mod.ts";
import { answerRequest, type ModuleOptions } from "./answer.ts";
import type { Backend } from "./backend.ts";
import { type LogSink, requestLogLine } from "./log.ts";
import { InFlight } from "./in_flight.ts";
import { DeadlineQueue } from "./deadline_queue.ts";
import { type RunningServer, runServerLoop } from "./server_life.ts";
import { isPassingError, PassingTrouble } from "./socket_trouble.ts";

/** Settings of a local-socket server. */
export interface LocalServerOptions extends ModuleOptions {
  /** The socket path. */
  path: string;
  /** The socket file's mode (from `$CVM_SOCKET_MODE`, octal; default 0o777). */
  mode: number;
  /** The socket's owner uid, when one was configured. */
  uid?: number;
  /** The socket's group gid, when one was configured. */
  gid?: number;
  /** Milliseconds to wait for a request and to send its reply. */
  timeoutMs: number;
  /** Where log lines go. */
  log: LogSink;
  /**
   * The most connections served at once (keep it below the open-file
   * limit); further clients wait in the kernel's listen backlog.
   */
  maxInFlight: number;
  /** Where trouble with the socket is reported (stderr in the programs). */
  warn: LogSink;
}

export type { RunningServer };

/**
 * Reads to end of input (the client half-closes) into a buffer of its own,
 * which the request's parsed values then point into; undefined on error
 * or timeout.
 */
async function readRequest(
  conn: Deno.UnixConn,
): Promise<Uint8Array | undefined> {
  const buffer = new Uint8Array(MAX_PACKET + 1);
  let length = 0;
  try {
    while (length <= MAX_PACKET) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) return buffer.subarray(0, length);
      length += n;
    }
    // Oversized: drain the rest (until EOF or the deadline) so the client
    // reads our BAD_CLIDATA reply instead of a connection reset.
    const scrap = new Uint8Array(4096);
    while ((await conn.read(scrap)) !== null) { /* discard */ }
    return buffer;
  } catch {
    return undefined;
  }
}

async function writeAll(conn: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

function closeQuietly(conn: Deno.UnixConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/**
 * Serves one connection; never rejects, and leaves `work` when done. A
 * deadline for the request and another for the reply: when one passes,
 * the connection is closed, which ends the stalled read or write, so a
 * silent client cannot hold anything.
 */
async function serveConnection<A>(
  conn: Deno.UnixConn,
  backend: Backend<A>,
  options: LocalServerOptions,
  deadlines: DeadlineQueue,
  work: InFlight,
): Promise<void> {
  let timedOut = false;
  const cut = () => {
    timedOut = true;
    closeQuietly(conn);
  };
  try {
    let deadline = deadlines.set(cut);
    const request = await readRequest(conn);
    deadline.done();
    if (request === undefined || timedOut) return;
    const answer = await answerRequest(backend, request, options);
    if (work.abandoned) return; // the server stopped without it
    // The line before the reply: a client that has its answer can read it.
    options.log(
      requestLogLine(answer.code, answer.account, answer.domain, answer.words),
    );
    const written = options.log.written;
    if (written !== undefined) await written();
    deadline = deadlines.set(cut);
    try {
      await writeAll(conn, answer.reply);
    } catch { /* the client went away; the answer is logged all the same */ }
    deadline.done();
  } catch {
    // The log could not be written: no reply goes out without its line.
  } finally {
    if (!timedOut) closeQuietly(conn);
    work.leave();
  }
}

/** Removes a stale socket at `path`, refusing to delete anything else. */
function removeStaleSocket(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new Error(`${path} exists and is not a socket`);
  }
  Deno.removeSync(path);
}

/**
 * Starts serving a backend on a Unix socket. Logs `Starting.` once
 * listening, one line per request (before its reply), and `Stopping.` when
 * stopped.
 *
 * At most `maxInFlight` connections are served at once; the others wait in
 * the kernel's listen backlog. An accept() that fails for want of file
 * descriptors (EMFILE, ENFILE) or because a client gave up (ECONNABORTED)
 * is reported once on `warn`, and accepting resumes after a short pause;
 * any other failure ends the server (`finished` rejects).
 *
 * @param backend The module backend.
 * @param options Socket path, mode, owner, timeout, bound, log sinks, lookup mode.
 * @returns The running server.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startLocalServer } from "./local_server.ts";
 * const backend = {
 *   lookup: () => Promise.resolve(undefined),
 *   authenticate: () => Promise.resolve(false),
 *   results: () => ({ username: "", userid: 0, groupid: 0, directory: "" }),
 * };
 * const dir = Deno.makeTempDirSync();
 * const server = startLocalServer(backend, { path: `${dir}/s`, mode: 0o777, timeoutMs: 1000,
 *   maxInFlight: 64, log: () => {}, warn: () => {} });
 * assert.equal(Deno.statSync(`${dir}/s`).isSocket, true);
 * await server.stop();
 * assert.throws(() => Deno.statSync(`${dir}/s`)); // removed on stop
 * Deno.removeSync(dir);
 * ```
 */
export function startLocalServer<A>(
  backend: Backend<A>,
  options: LocalServerOptions,
): RunningServer {
  removeStaleSocket(options.path);
  const listener = Deno.listen({ transport: "unix", path: options.path });
  Deno.chmodSync(options.path, options.mode);
  if (options.uid !== undefined || options.gid !== undefined) {
    Deno.chownSync(options.path, options.uid ?? null, options.gid ?? null);
  }
  options.log("Starting.");
  const work = new InFlight(options.maxInFlight);
  const deadlines = new DeadlineQueue(options.timeoutMs);
  const accepting = async (stopped: () => boolean) => {
    const trouble = new PassingTrouble(
      options.warn,
      `accept on ${options.path}`,
    );
    for (;;) {
      // At the bound, the next clients wait in the kernel's backlog.
      await work.room();
      if (stopped()) return;
      let conn: Deno.UnixConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (stopped()) return;
        if (!isPassingError(e)) throw e;
        await trouble.failed(e);
        continue;
      }
      trouble.cleared();
      work.enter();
      void serveConnection(conn, backend, options, deadlines, work);
    }
  };
  const closeSocket = () => {
    try {
      listener.close();
    } catch { /* already closed */ }
    try {
      Deno.removeSync(options.path);
    } catch { /* already gone */ }
  };
  const server = runServerLoop(
    accepting,
    closeSocket,
    work,
    backend,
    options.log,
  );
  // The work is over (or given up on): no timer is left behind.
  const stopTimer = () => deadlines.close();
  server.finished.then(stopTimer, stopTimer);
  return server;
}
