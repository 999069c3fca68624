/**
 * A loopback TCP proxy a test controls, to simulate a database outage
 * without stopping the shared server: `stop()` closes the listening port and
 * cuts every connection through it (the database "goes away"), `start()`
 * listens on the same port again (it "comes back"). `hang()` keeps every
 * connection open and accepts new ones but forwards nothing (the database
 * "hangs"); `heal()` forwards again.
 *
 * @module
 */

/** A proxy from a port on 127.0.0.1 to a target port on 127.0.0.1. */
export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** Listens again on the same port. */
  start(): void;
  /** Stops listening and cuts every open connection. */
  stop(): Promise<void>;
  /** Cuts every open connection but keeps listening. */
  cut(): void;
  /** Accepts and keeps connections but forwards nothing, on old or new ones. */
  hang(): void;
  /** Forwards again, what was held first. */
  heal(): void;
  /** Stops for good. */
  close(): Promise<void>;
}

async function pipe(
  from: Deno.Conn,
  to: Deno.Conn,
  forwarding: () => Promise<void>,
): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      await forwarding();
      let at = 0;
      while (at < n) at += await to.write(buffer.subarray(at, n));
    }
  } catch { /* either side closed */ }
  try {
    await to.closeWrite();
  } catch { /* already closed */ }
}

/**
 * Starts a proxy on a free port forwarding to `targetPort`.
 *
 * @param targetPort The database's port.
 * @returns The running proxy.
 */
export function startProxy(targetPort: number): TcpProxy {
  let listener: Deno.TcpListener | undefined;
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let port = 0;
  // Resolved while forwarding; a pending promise while hung.
  let gate = Promise.resolve();
  let release: (() => void) | undefined;
  const forwarding = () => gate;
  const heal = () => {
    release?.();
    release = undefined;
    gate = Promise.resolve();
  };
  const track = (task: Promise<void>) => {
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  };
  const closeConn = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const serve = async (client: Deno.Conn) => {
    await forwarding();
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      closeConn(client);
      return;
    }
    if (listener === undefined) {
      // Stopped while connecting: the database is "down".
      closeConn(client);
      server.close();
      return;
    }
    open.add(server);
    await Promise.all([
      pipe(client, server, forwarding),
      pipe(server, client, forwarding),
    ]);
    closeConn(client);
    closeConn(server);
  };
  const start = () => {
    if (listener) return;
    listener = Deno.listen({ hostname: "127.0.0.1", port });
    port = (listener.addr as Deno.NetAddr).port;
    const current = listener;
    track((async () => {
      try {
        for await (const client of current) {
          open.add(client);
          track(serve(client));
        }
      } catch { /* listener closed */ }
    })());
  };
  const cut = () => {
    for (const conn of [...open]) closeConn(conn);
  };
  const stop = async () => {
    heal(); // what is held must end too
    try {
      listener?.close();
    } catch { /* already closed */ }
    listener = undefined;
    cut();
    await Promise.allSettled([...tasks]);
  };
  start();
  return {
    get port() {
      return port;
    },
    start,
    stop,
    cut,
    hang() {
      if (release === undefined) gate = new Promise((r) => release = r);
    },
    heal,
    close: stop,
  };
}
