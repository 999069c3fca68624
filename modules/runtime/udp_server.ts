/**
 * UDP mode: one datagram in, one datagram back, to whoever sent it.
 *
 * Uses Deno's own datagram socket (`--unstable-net`, set in deno.json):
 * it sends about a quarter faster than node:dgram here.
 *
 * @module
 */

import { answerRequest, type ModuleOptions } from "./answer.ts";
import type { Backend } from "./backend.ts";
import { type LogSink, requestLogLine } from "./log.ts";
import { InFlight } from "./in_flight.ts";
import { type RunningServer, runServerLoop } from "./server_life.ts";
import {
  isPassingError,
  OncePerSpell,
  PassingTrouble,
} from "./socket_trouble.ts";

/** Settings of a UDP server. */
export interface UdpServerOptions extends ModuleOptions {
  /** The address to bind; "0" or "" means every IPv4 address. */
  host: string;
  /** The port (0 picks a free one). */
  port: number;
  /** Where log lines go. */
  log: LogSink;
  /**
   * The most datagrams worked on at once; one that arrives while the
   * server is full is dropped, as a lost datagram (the client resends).
   */
  maxInFlight: number;
  /** Where trouble with the socket is reported (stderr in the programs). */
  warn: LogSink;
}

/**
 * Starts serving a backend on a UDP port. Requests are answered
 * concurrently, so a slow hash does not hold up the others, but at most
 * `maxInFlight` at once: a datagram that arrives while that many are being
 * worked on is dropped at once (said once per spell on `warn`), so a flood
 * costs a bounded amount of memory and no stale work piles up; the client
 * resends as after a lost datagram. Logs as the local server does; on stop
 * the socket is closed first, so no new work comes in.
 *
 * @param backend The module backend.
 * @param options Address, port, bound, log sinks, lookup mode.
 * @returns The running server (bound when this returns), with its port.
 * @example
 * ```ts
 * import { startUdpServer } from "./udp_server.ts";
 * const backend = {
 *   lookup: () => Promise.resolve(undefined),
 *   authenticate: () => Promise.resolve(false),
 *   results: () => ({ username: "", userid: 0, groupid: 0, directory: "" }),
 * };
 * const server = startUdpServer(backend, { host: "127.0.0.1", port: 0,
 *   maxInFlight: 64, log: () => {}, warn: () => {} });
 * await server.stop();
 * ```
 */
export function startUdpServer<A>(
  backend: Backend<A>,
  options: UdpServerOptions,
): RunningServer & { port: number } {
  const hostname = options.host === "0" || options.host === ""
    ? "0.0.0.0"
    : options.host;
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname,
    port: options.port,
  });
  const port = (socket.addr as Deno.NetAddr).port;
  const work = new InFlight(options.maxInFlight);
  // Never rejects, and leaves `work` when done.
  const answer = async (message: Uint8Array, peer: Deno.Addr) => {
    try {
      const reply = await answerRequest(backend, message, options);
      if (work.abandoned) return; // the server stopped without it
      // The line before the reply: a client that has its answer can read it.
      options.log(
        requestLogLine(reply.code, reply.account, reply.domain, reply.words),
      );
      const written = options.log.written;
      if (written !== undefined) await written();
      await socket.send(reply.reply, peer);
    } catch {
      // The socket closed while stopping, or the log could not be written
      // (no reply goes out without its line).
    } finally {
      work.leave();
    }
  };
  const receiving = async (stopped: () => boolean) => {
    const trouble = new PassingTrouble(options.warn, `receive on port ${port}`);
    const busy = new OncePerSpell(options.warn);
    // One small buffer, reused: the default receive allocates 64 KiB per
    // datagram, and a request is at most 513 bytes worth reading.
    const buffer = new Uint8Array(2048);
    for (;;) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await socket.receive(buffer);
      } catch (e) {
        if (stopped()) return;
        if (!isPassingError(e)) throw e;
        await trouble.failed(e);
        continue;
      }
      trouble.cleared();
      if (work.size >= work.limit) {
        // Full: drop it, rather than queue work nobody may wait for.
        busy.note(
          `${work.limit} requests in flight: dropping datagrams until there is room`,
        );
        continue;
      }
      busy.cleared();
      const [message, peer] = received;
      // A copy: the buffer is read into again, and the request's values
      // point into the bytes they were parsed from.
      work.enter();
      void answer(message.slice(), peer);
    }
  };
  options.log("Starting.");
  const closeSocket = () => {
    try {
      socket.close();
    } catch { /* closed */ }
  };
  return {
    ...runServerLoop(receiving, closeSocket, work, backend, options.log),
    port,
  };
}
