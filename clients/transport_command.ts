/**
 * The command transport: run the module, request on its stdin, reply on its
 * stdout, its exit status as the result code.
 *
 * @module
 */

import { CvmError, ErrorCode, MAX_PACKET, toBytes } from "../protocol/mod.ts";
import type { Exchange } from "./transport.ts";

/** A printf format that prints these bytes: each one as an octal escape. */
function octalFormat(text: string): string {
  let format = "";
  for (const byte of toBytes(text)) {
    format += "\\" + byte.toString(8).padStart(3, "0");
  }
  return `${format}x`; // the x keeps trailing newlines from $(…)
}

/**
 * How to run a module with an environment given as exact text. Deno's
 * Command takes text and would turn a byte that is not UTF-8 into U+FFFD;
 * when a value holds one (a Latin-1 variable passed on, as the reference
 * passes it), /bin/sh sets those variables from printf's octal escapes
 * and execs the module, so it gets the bytes. The escapes travel in the
 * environment (`__CVM_BYTES_N`, unset before the exec), never on the
 * command line, which every local user can read in /proc.
 *
 * @param path The module program.
 * @param env The environment, names and values as exact text.
 * @returns The program, its arguments and the text-only environment.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { moduleCommand } from "./transport_command.ts";
 * assert.deepEqual(moduleCommand("/usr/bin/cvm-unix", { A: "1" }), {
 *   program: "/usr/bin/cvm-unix", args: [], env: { A: "1" },
 * });
 * const latin = moduleCommand("/usr/bin/cvm-unix", { A: "1", N: "j\uDCE9" });
 * assert.equal(latin.program, "/bin/sh");
 * assert.deepEqual(latin.env, { A: "1", __CVM_BYTES_0: "\\152\\351x" });
 * assert.deepEqual(latin.args, [
 *   "-c",
 *   'N=$(printf "$__CVM_BYTES_0"); N=${N%x}; export N; unset __CVM_BYTES_0; exec "$0"',
 *   "/usr/bin/cvm-unix",
 * ]);
 * ```
 */
export function moduleCommand(
  path: string,
  env: Readonly<Record<string, string>>,
): { program: string; args: string[]; env: Record<string, string> } {
  const text: Record<string, string> = {};
  let script = "";
  let n = 0;
  for (const [name, value] of Object.entries(env)) {
    if (name.isWellFormed() && value.isWellFormed()) text[name] = value;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      const carrier = `__CVM_BYTES_${n++}`;
      text[carrier] = octalFormat(value);
      script += `${name}=$(printf "$${carrier}"); ${name}=\${${name}%x}; ` +
        `export ${name}; unset ${carrier}; `;
    } // a name the shell cannot set is left out, as Deno leaves it out
  }
  if (script === "") return { program: path, args: [], env: text };
  return {
    program: "/bin/sh",
    args: ["-c", `${script}exec "$0"`, path],
    env: text,
  };
}

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
 * // A program that answers nothing is a temporary failure (IO, 4).
 * await assert.rejects(
 *   exchangeCommand("/bin/true", new Uint8Array([0]), {}),
 *   (e: { code?: number }) => e.code === 4,
 * );
 * ```
 */
export async function exchangeCommand(
  path: string,
  request: Uint8Array,
  env: Record<string, string>,
): Promise<Exchange> {
  let child: Deno.ChildProcess;
  const command = moduleCommand(path, env);
  try {
    child = new Deno.Command(command.program, {
      args: command.args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: command.env,
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
