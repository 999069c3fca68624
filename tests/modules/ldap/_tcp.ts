/**
 * Small loopback TCP stand-ins for the cvm-ldap tests: a forwarder (to
 * reach the test slapd under another address) and a silent server (accepts
 * connections, never answers: a hung server without touching slapd).
 *
 * @module
 */

/** A listener the test stops. */
export interface Stub {
  /** The address clients connect to. */
  hostname: string;
  /** The port clients connect to. */
  port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

function serve(
  listener: Deno.TcpListener,
  handle: (conn: Deno.Conn) => Promise<void>,
): Stub {
  const open = new Set<Deno.Conn>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        handle(conn).finally(() => open.delete(conn));
      }
    } catch { /* closed */ }
  })();
  const addr = listener.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  try {
    await from.readable.pipeTo(to.writable, { preventClose: true });
  } catch { /* either side closed */ }
  try {
    await to.closeWrite();
  } catch { /* closed */ }
}

/**
 * Forwards connections on `hostname` (e.g. 127.0.0.2) to 127.0.0.1:`port`.
 *
 * @param hostname The loopback address to listen on.
 * @param port The target port on 127.0.0.1.
 * @returns The forwarder.
 */
export function startForwarder(hostname: string, port: number): Stub {
  const conns: Deno.Conn[] = [];
  const stub = serve(
    Deno.listen({ hostname, port: 0 }),
    async (client) => {
      let target: Deno.Conn;
      try {
        target = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        client.close();
        return;
      }
      conns.push(target);
      await Promise.all([pipe(client, target), pipe(target, client)]);
      for (const c of [client, target]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  );
  return {
    ...stub,
    async close() {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await stub.close();
    },
  };
}

/**
 * Accepts connections on 127.0.0.1 and never sends a byte.
 *
 * @returns The silent server.
 */
export function startSilentServer(): Stub {
  return serve(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    async (conn) => {
      // Read and drop whatever comes, until the client gives up.
      try {
        for await (const _ of conn.readable) { /* ignore */ }
      } catch { /* closed */ }
    },
  );
}

/**
 * A port on 127.0.0.1 where nothing listens (bound, read, released).
 *
 * @returns The port.
 */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
