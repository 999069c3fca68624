/**
 * Command mode: one request on stdin, the reply on stdout, the result code
 * as the exit status.
 *
 * @module
 */

import { MAX_PACKET } from "../../protocol/mod.ts";
import { answerRequest, type ModuleOptions } from "./answer.ts";
import type { Backend } from "./backend.ts";

/** What `readLimited` reads from: `Deno.stdin`, a connection, a file. */
export interface ByteReader {
  /** Reads into `buffer`; the byte count, or null at end of input. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/**
 * Reads to end of input, keeping at most `limit + 1` bytes so an
 * oversized input is seen as such without unbounded memory. It reads the
 * reader directly, not through a web stream: `Deno.stdin.readable` costs
 * a command-mode start about 10 ms.
 *
 * @param reader The input, e.g. `Deno.stdin`.
 * @param limit The most bytes a valid input has.
 * @returns The bytes read (longer than `limit` when the input was).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLimited } from "./command_server.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "hello");
 * using file = Deno.openSync(path);
 * assert.equal((await readLimited(file, 512)).length, 5);
 * ```
 */
export async function readLimited(
  reader: ByteReader,
  limit: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(limit + 1);
  let length = 0;
  while (length < out.length) {
    const n = await reader.read(out.subarray(length));
    if (n === null) break;
    length += n;
  }
  return out.subarray(0, length);
}

/**
 * Serves one request from stdin to stdout and returns the exit status.
 *
 * @param backend The module backend.
 * @param options Lookup mode.
 * @returns The result code, to exit with.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRequestV2 } from "../../protocol/mod.ts";
 * // It reads stdin and writes stdout, as cvm-MODULE does: run it in a child.
 * const program = `import { serveCommand } from "${import.meta.resolve("./command_server.ts")}";
 *   const backend = {
 *     lookup: () => Promise.resolve(undefined),
 *     authenticate: () => Promise.resolve(false),
 *     results: () => ({ username: "", userid: 0, groupid: 0, directory: "" }),
 *   };
 *   Deno.exit(await serveCommand(backend, {}));`;
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["eval", program], stdin: "piped", stdout: "piped",
 * }).spawn();
 * const writer = child.stdin.getWriter();
 * await writer.write(encodeRequestV2(new Uint8Array(0),
 *   [{ type: 1, value: new TextEncoder().encode("bob") }]));
 * await writer.close();
 * const { code, stdout } = await child.output();
 * assert.equal(code, 100); // no such account: the exit status is the code
 * assert.deepEqual(stdout, new Uint8Array([100, 0, 0]));
 * ```
 */
export async function serveCommand<A>(
  backend: Backend<A>,
  options: ModuleOptions,
): Promise<number> {
  const request = await readLimited(Deno.stdin, MAX_PACKET);
  const answer = await answerRequest(backend, request, options);
  let at = 0;
  while (at < answer.reply.length) {
    at += await Deno.stdout.write(answer.reply.subarray(at));
  }
  return answer.code;
}
