/**
 * UDP mode: one datagram in, one datagram back, to whoever sent it.
 *
 * @module
 */

import dgram from "node:dgram";
import { isIP } from "node:net";
import { answerRequest, type ModuleOptions } from "./answer.ts";
import type { Backend } from "./backend.ts";
import { type LogSink, requestLogLine } from "./log.ts";
import type { RunningServer } from "./local_server.ts";

/** Settings of a UDP server. */
export interface UdpServerOptions extends ModuleOptions {
  /** The address to bind; "0" or "" means every IPv4 address. */
  host: string;
  /** The port. */
  port: number;
  /** Where log lines go. */
  log: LogSink;
}

/**
 * Starts serving a backend on a UDP port. Logs as the local server does.
 *
 * @param backend The module backend.
 * @param options Address, port, log sink, lookup mode.
 * @returns The running server, once bound (with the bound port).
 * @example
 * ```ts
 * import { startUdpServer } from "./udp_server.ts";
 * // const server = await startUdpServer(backend, { host: "127.0.0.1", port: 0, log: console.log });
 * ```
 */
export async function startUdpServer<A>(
  backend: Backend<A>,
  options: UdpServerOptions,
): Promise<RunningServer & { port: number }> {
  const host = options.host === "0" || options.host === ""
    ? "0.0.0.0"
    : options.host;
  const socket = dgram.createSocket(isIP(host) === 6 ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const inFlight = new Set<Promise<void>>();
  socket.on("message", (message: Uint8Array, peer: dgram.RemoteInfo) => {
    const done = (async () => {
      const answer = await answerRequest(
        backend,
        new Uint8Array(message),
        options,
      );
      socket.send(answer.reply, peer.port, peer.address);
      options.log(requestLogLine(answer.code, answer.account, answer.domain));
    })().finally(() => inFlight.delete(done));
    inFlight.add(done);
  });
  options.log("Starting.");
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((r) => socket.close(() => r()));
      await backend.close?.();
      options.log("Stopping.");
      resolveFinished();
    })();
    return stopping;
  };
  return { stop, finished, port: socket.address().port };
}
