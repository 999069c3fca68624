/**
 * Command mode: one request on stdin, the reply on stdout, the result code
 * as the exit status.
 *
 * @module
 */

import { MAX_PACKET } from "../../protocol/mod.ts";
import { answerRequest, type ModuleOptions } from "./answer.ts";
import type { Backend } from "./backend.ts";

/**
 * Reads a stream to its end, keeping at most `limit + 1` bytes so an
 * oversized input is seen as such without unbounded memory.
 *
 * @param reader The stream.
 * @param limit The most bytes a valid input has.
 * @returns The bytes read (longer than `limit` when the input was).
 * @example
 * ```ts
 * import { readLimited } from "./command_server.ts";
 * // const bytes = await readLimited(Deno.stdin.readable, 512);
 * ```
 */
export async function readLimited(
  reader: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(limit + 1);
  let length = 0;
  for await (const chunk of reader) {
    const take = Math.min(chunk.length, out.length - length);
    out.set(chunk.subarray(0, take), length);
    length += take;
    if (length > limit) break;
  }
  return out.slice(0, length);
}

/**
 * Serves one request from stdin to stdout and returns the exit status.
 *
 * @param backend The module backend.
 * @param options Lookup mode.
 * @returns The result code, to exit with.
 * @example
 * ```ts
 * import { serveCommand } from "./command_server.ts";
 * // Deno.exit(await serveCommand(backend, {}));
 * ```
 */
export async function serveCommand<A>(
  backend: Backend<A>,
  options: ModuleOptions,
): Promise<number> {
  const request = await readLimited(Deno.stdin.readable, MAX_PACKET);
  const answer = await answerRequest(backend, request, options);
  let at = 0;
  while (at < answer.reply.length) {
    at += await Deno.stdout.write(answer.reply.subarray(at));
  }
  return answer.code;
}
