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
 * import { exchangeLocal } from "./transport_local.ts";
 * // const { reply } = await exchangeLocal("/run/cvm/unix.sock", bytes);
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
