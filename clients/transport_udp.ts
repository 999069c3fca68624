/**
 * The UDP transport: one datagram each way, resent on silence, and only a
 * reply from the module's address that echoes our random tag is believed.
 *
 * @module
 */

import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { CvmError, ErrorCode } from "../protocol/mod.ts";
import type { Exchange } from "./transport.ts";

/** The reference's waits between resends, in milliseconds. */
export const UDP_RETRY_WAITS_MS: readonly number[] = [2000, 4000, 8000, 16000];

/**
 * Sends a request to a UDP module, resending after each wait in `waitsMs`,
 * and returns the first reply that `accept` takes (spoofed or stale
 * datagrams are ignored).
 *
 * @param host The module's host name or address.
 * @param port The module's port.
 * @param request The request bytes.
 * @param accept Whether a reply belongs to this request (checks the random tag).
 * @param waitsMs How long to wait before each resend, and after the last send.
 * @returns The reply.
 * @throws {CvmError} IO after the last wait, GENERAL when the host does not resolve.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeUdp } from "./transport_udp.ts";
 * import { encodeRequestV2 } from "../protocol/mod.ts";
 * import { startUdpServer } from "../modules/runtime/mod.ts";
 * const backend = {
 *   lookup: (r: { account: string }) =>
 *     Promise.resolve(r.account === "bob" ? r.account : undefined),
 *   authenticate: (_: string, r: { password?: Uint8Array }) =>
 *     Promise.resolve(new TextDecoder().decode(r.password) === "pw"),
 *   results: () => ({ username: "bob", userid: 1000, groupid: 100, directory: "/home/bob" }),
 * };
 * const server = startUdpServer(backend, { host: "127.0.0.1", port: 0,
 *   maxInFlight: 4, log: () => {}, warn: () => {} });
 * try {
 *   const bytes = encodeRequestV2(new Uint8Array([7]),
 *     [{ type: 1, value: new TextEncoder().encode("mallory") }]);
 *   const { reply } = await exchangeUdp("127.0.0.1", server.port, bytes, () => true);
 *   assert.deepEqual(reply, new Uint8Array([100, 1, 7, 0])); // no such account
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function exchangeUdp(
  host: string,
  port: number,
  request: Uint8Array,
  accept: (reply: Uint8Array) => boolean,
  waitsMs: readonly number[] = UDP_RETRY_WAITS_MS,
): Promise<Exchange> {
  let address = host;
  if (isIP(host) === 0) {
    try {
      address = (await lookup(host)).address;
    } catch {
      throw new CvmError(ErrorCode.GENERAL, `cannot resolve ${host}`);
    }
  }
  const socket = dgram.createSocket(isIP(address) === 6 ? "udp6" : "udp4");
  try {
    return await new Promise<Exchange>((resolve, reject) => {
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      socket.on("error", (e: Error) => {
        clearTimeout(timer);
        reject(new CvmError(ErrorCode.IO, `UDP error: ${e.name}`));
      });
      socket.on("message", (message: Uint8Array, peer: dgram.RemoteInfo) => {
        if (peer.port !== port || peer.address !== address) return;
        const reply = new Uint8Array(message);
        if (!accept(reply)) return;
        clearTimeout(timer);
        resolve({ reply });
      });
      const send = () => {
        if (attempt >= waitsMs.length) {
          reject(new CvmError(ErrorCode.IO, `no reply from ${host}:${port}`));
          return;
        }
        socket.send(request, port, address);
        timer = setTimeout(send, waitsMs[attempt++]);
      };
      send();
    });
  } finally {
    socket.close();
  }
}
