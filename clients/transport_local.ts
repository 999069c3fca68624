/**
 * The local transport: one connection to a Unix socket per request; the
 * client half-closes after writing and reads the reply to end of stream.
 *
 * @module
 */

import { CvmError, ErrorCode, MAX_PACKET } from "../protocol/mod.ts";
import type { Exchange } from "./transport.ts";

/**
 * Sends a request to a module listening on a Unix socket.
 *
 * @param path The socket path.
 * @param request The request bytes.
 * @returns The reply bytes.
 * @throws {CvmError} IO when the socket cannot be reached or says nothing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeLocal } from "./transport_local.ts";
 * import { encodeRequestV2 } from "../protocol/mod.ts";
 * import { startLocalServer } from "../modules/runtime/mod.ts";
 * const backend = {
 *   lookup: (r: { account: string }) =>
 *     Promise.resolve(r.account === "bob" ? r.account : undefined),
 *   authenticate: (_: string, r: { password?: Uint8Array }) =>
 *     Promise.resolve(new TextDecoder().decode(r.password) === "pw"),
 *   results: () => ({ username: "bob", userid: 1000, groupid: 100, directory: "/home/bob" }),
 * };
 * const dir = await Deno.makeTempDir();
 * const server = startLocalServer(backend, { path: `${dir}/s`, mode: 0o777,
 *   timeoutMs: 1000, maxInFlight: 4, log: () => {}, warn: () => {} });
 * try {
 *   const bytes = encodeRequestV2(new Uint8Array(0),
 *     [{ type: 1, value: new TextEncoder().encode("mallory") }]);
 *   const { reply } = await exchangeLocal(`${dir}/s`, bytes);
 *   assert.deepEqual(reply, new Uint8Array([100, 0, 0])); // no such account
 * } finally {
 *   await server.stop();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function exchangeLocal(
  path: string,
  request: Uint8Array,
): Promise<Exchange> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    throw new CvmError(
      ErrorCode.IO,
      `cannot connect to ${path}: ${(e as Error).name}`,
    );
  }
  try {
    let at = 0;
    while (at < request.length) at += await conn.write(request.subarray(at));
    await conn.closeWrite();
    const buffer = new Uint8Array(MAX_PACKET + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    if (length === 0) {
      throw new CvmError(ErrorCode.IO, `no reply from ${path}`);
    }
    return { reply: buffer.slice(0, length) };
  } catch (e) {
    if (e instanceof CvmError) throw e;
    throw new CvmError(
      ErrorCode.IO,
      `I/O error on ${path}: ${(e as Error).name}`,
    );
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}
