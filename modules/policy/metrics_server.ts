/**
 * A small, bounded HTTP server for Prometheus: `GET /metrics` (and `/`)
 * answers the exposition text; nothing else is served. At most
 * {@linkcode METRICS_MAX_CONNECTIONS} connections at once (more are closed
 * at once), a request head of at most {@linkcode METRICS_MAX_HEAD} bytes,
 * and {@linkcode METRICS_TIMEOUT_MS} for the whole exchange.
 *
 * @module
 */

import type { ListenAddress } from "./settings.ts";

/** The most connections served at once. */
export const METRICS_MAX_CONNECTIONS = 8;
/** The longest request head read, in bytes. */
export const METRICS_MAX_HEAD = 4096;
/** How long one exchange may take, in ms. */
export const METRICS_TIMEOUT_MS = 5000;

/** A running metrics server. */
export interface MetricsServer {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and closes the connections. */
  close(): void;
}

const encoder = new TextEncoder();

function response(status: string, type: string, body: string, head: boolean) {
  const bytes = encoder.encode(body);
  const header = `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
  const headerBytes = encoder.encode(header);
  if (head) return headerBytes;
  const out = new Uint8Array(headerBytes.length + bytes.length);
  out.set(headerBytes);
  out.set(bytes, headerBytes.length);
  return out;
}

/** Reads a request head; undefined when it is too long or the peer went away. */
async function readHead(conn: Deno.Conn): Promise<string | undefined> {
  const buffer = new Uint8Array(METRICS_MAX_HEAD);
  let length = 0;
  while (length < buffer.length) {
    const n = await conn.read(buffer.subarray(length));
    if (n === null) return undefined;
    length += n;
    const text = new TextDecoder().decode(buffer.subarray(0, length));
    if (text.includes("\r\n\r\n") || text.includes("\n\n")) return text;
  }
  return undefined;
}

async function serve(
  conn: Deno.Conn,
  text: () => Promise<string>,
  contentType: string,
): Promise<void> {
  const head = await readHead(conn);
  let reply: Uint8Array;
  const plain = "text/plain; charset=utf-8";
  const line = head?.split(/\r?\n/, 1)[0] ?? "";
  const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  if (head === undefined || !match) {
    reply = response("400 Bad Request", plain, "bad request\n", false);
  } else if (match[1] !== "GET" && match[1] !== "HEAD") {
    reply = response("405 Method Not Allowed", plain, "GET only\n", false);
  } else {
    const path = match[2].split("?")[0];
    const isHead = match[1] === "HEAD";
    reply = path === "/metrics" || path === "/"
      ? response("200 OK", contentType, await text(), isHead)
      : response("404 Not Found", plain, "try /metrics\n", isHead);
  }
  let at = 0;
  while (at < reply.length) at += await conn.write(reply.subarray(at));
}

/**
 * Serves metrics on a TCP address.
 *
 * @param address Where to listen (`$CVM_METRICS`).
 * @param text Makes the exposition text.
 * @param contentType Its content type.
 * @param warn Where a failing listener is reported.
 * @returns The running server.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startMetricsServer } from "./metrics_server.ts";
 * const server = startMetricsServer({ hostname: "127.0.0.1", port: 0 },
 *   () => Promise.resolve("up 1\n"), "text/plain", () => {});
 * const reply = await fetch(`http://127.0.0.1:${server.port}/metrics`);
 * assert.equal(await reply.text(), "up 1\n");
 * server.close();
 * ```
 */
export function startMetricsServer(
  address: ListenAddress,
  text: () => Promise<string>,
  contentType: string,
  warn: (line: string) => void,
): MetricsServer {
  const listener = Deno.listen({
    transport: "tcp",
    hostname: address.hostname,
    port: address.port,
  });
  const open = new Set<Deno.Conn>();
  let closed = false;
  const drop = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* closed */ }
  };
  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (closed) return;
        warn(`metrics: accept: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (open.size >= METRICS_MAX_CONNECTIONS) {
        drop(conn);
        continue;
      }
      open.add(conn);
      const timer = setTimeout(() => drop(conn), METRICS_TIMEOUT_MS);
      serve(conn, text, contentType)
        .catch(() => {})
        .finally(() => {
          clearTimeout(timer);
          drop(conn);
        });
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      closed = true;
      try {
        listener.close();
      } catch { /* closed */ }
      for (const conn of [...open]) drop(conn);
    },
  };
}
