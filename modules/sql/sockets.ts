/**
 * The sockets of one SQL driver's connections, opened by us and handed to
 * the client library, so that connections to a database that hangs can be
 * destroyed outright. A client's own close only half-closes (it sends its
 * goodbye and waits for the server's), which a hung server never answers:
 * each such connection would keep a descriptor forever.
 *
 * @module
 */

import { Socket } from "node:net";

/** Where a database listens: a Unix socket, or a TCP host and port. */
export type SocketTarget = { path: string } | { host: string; port: number };

/** The open sockets of one driver. */
export class SqlSockets {
  readonly #open = new Set<Socket>();

  /**
   * Opens a connection as the client library would (TCP without Nagle's
   * delay, with keep-alive) and keeps its socket until it closes.
   *
   * @param target Where the database listens.
   * @returns The socket, connecting.
   * @example
   * ```ts
   * import { SqlSockets } from "./sockets.ts";
   * const sockets = new SqlSockets();
   * sockets.open({ host: "127.0.0.1", port: 5432 });
   * sockets.destroyAll();
   * ```
   */
  open(target: SocketTarget): Socket {
    const socket = new Socket();
    this.#open.add(socket);
    socket.once("close", () => this.#open.delete(socket));
    if ("path" in target) {
      socket.connect(target.path);
    } else {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      socket.connect(target.port, target.host);
    }
    return socket;
  }

  /**
   * Destroys every open socket: what waits on them fails at once, and the
   * client library connects anew for the next statement.
   *
   * @example
   * ```ts
   * import { SqlSockets } from "./sockets.ts";
   * new SqlSockets().destroyAll();
   * ```
   */
  destroyAll(): void {
    for (const socket of this.#open) socket.destroy();
  }
}
