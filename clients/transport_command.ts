/**
 * The command transport: run the module, request on its stdin, reply on its
 * stdout, its exit status as the result code.
 *
 * @module
 */

import { CvmError, ErrorCode, MAX_PACKET } from "../protocol/mod.ts";
import type { Exchange } from "./transport.ts";

/**
 * Runs a command module once.
 *
 * @param path The program (searched on PATH when it has no slash).
 * @param request The request bytes.
 * @param env The environment to give it.
 * @returns The reply bytes and the exit status.
 * @throws {CvmError} IO when it cannot run, dies by a signal or prints nothing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeCommand } from "./transport_command.ts";
 * // cat stands in for a module: it answers with the bytes it was sent.
 * const request = new Uint8Array([2, 0, 1, 3, 98, 111, 98, 0]);
 * const { reply, status } = await exchangeCommand("/bin/cat", request, {});
 * assert.equal(status, 0);
 * assert.deepEqual(reply, request);
 * ```
 */
export async function exchangeCommand(
  path: string,
  request: Uint8Array,
  env: Record<string, string>,
): Promise<Exchange> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env,
      clearEnv: true,
    }).spawn();
  } catch (e) {
    throw new CvmError(
      ErrorCode.IO,
      `cannot run ${path}: ${(e as Error).name}`,
    );
  }
  const writer = child.stdin.getWriter();
  // A module that exits without reading makes this write fail: that is its answer.
  await writer.write(request).catch(() => {});
  await writer.close().catch(() => {});
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of child.stdout) {
    if (length <= MAX_PACKET) chunks.push(chunk);
    length += chunk.length;
  }
  const status = await child.status;
  if (status.signal !== null) {
    throw new CvmError(ErrorCode.IO, `${path} killed by ${status.signal}`);
  }
  const reply = new Uint8Array(Math.min(length, MAX_PACKET + 1));
  let at = 0;
  for (const c of chunks) {
    const take = Math.min(c.length, reply.length - at);
    reply.set(c.subarray(0, take), at);
    at += take;
  }
  if (reply.length === 0) {
    throw new CvmError(ErrorCode.IO, `${path} gave no reply`);
  }
  return { reply, status: status.code };
}
