/**
 * The arguments and environment as the caller gave them, byte for byte.
 * Deno hands a program its arguments with each byte that is not UTF-8
 * replaced by U+FFFD, and leaves out every environment variable that is
 * not UTF-8; the reference's programs see the bytes. A Latin-1 account
 * name (`jos\xe9`) on cvm-testclient's command line, or a Latin-1 variable
 * that cvm-checkpassword hands on to its next program, must stay what it
 * was: these read the bytes from /proc and give them as exact text
 * (`toExactText`, which `toBytes` turns back into the same bytes).
 *
 * @module
 */

import { toExactText } from "./protocol/mod.ts";

/** The NUL-terminated strings of a /proc file such as cmdline or environ. */
function nulSeparated(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0, start);
    if (end < 0) end = bytes.length;
    out.push(bytes.subarray(start, end));
    start = end + 1;
  }
  return out;
}

/**
 * The program's arguments with each one that Deno decoded lossily (it
 * holds U+FFFD) read again from the command line, as exact text.
 *
 * @param args The arguments as Deno gives them (`Deno.args`).
 * @param cmdline The process's command line, NUL-separated (read from
 *   `/proc/self/cmdline` unless given); its last entries are the arguments.
 * @returns The arguments; `args` itself when none needed it or the
 *   command line cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exactArguments } from "./caller_bytes.ts";
 * const cmdline = new Uint8Array([
 *   ...new TextEncoder().encode("deno\0run\0main.ts\0pw\0"), 0x6a, 0xe9, 0,
 * ]);
 * const args = exactArguments(["pw", "j\uFFFD"], () => cmdline);
 * assert.deepEqual(args, ["pw", "j\uDCE9"]); // toBytes gives 6a e9 back
 * assert.deepEqual(exactArguments(["pw", "bob"], () => cmdline), ["pw", "bob"]);
 * ```
 */
export function exactArguments(
  args: readonly string[],
  cmdline: () => Uint8Array = () => Deno.readFileSync("/proc/self/cmdline"),
): string[] {
  if (!args.some((arg) => arg.includes("\uFFFD"))) return [...args];
  let entries: Uint8Array[];
  try {
    entries = nulSeparated(cmdline());
  } catch {
    return [...args];
  }
  if (entries.length < args.length) return [...args];
  const raw = entries.slice(entries.length - args.length);
  return args.map((arg, i) =>
    arg.includes("\uFFFD") ? toExactText(raw[i]) : arg
  );
}

/** Whether bytes are UTF-8 (Deno gives such a variable; it leaves out the rest). */
function isUtf8(bytes: Uint8Array, decoder: TextDecoder): boolean {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The environment with the variables Deno leaves out (a name or value that
 * is not UTF-8) put back, as exact text, from the environment the process
 * started with. A variable that is UTF-8 is taken from `env` only, so a
 * change made since the start (a variable set or removed) stands.
 *
 * @param env The environment as Deno gives it (`Deno.env.toObject()`).
 * @param environ The process's starting environment, NUL-separated
 *   `NAME=value` entries (read from `/proc/self/environ` unless given).
 * @returns A new record: `env` and the variables it was missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exactEnvironment } from "./caller_bytes.ts";
 * const environ = new Uint8Array([
 *   ...new TextEncoder().encode("PATH=/bin\0GONE=1\0NAME=Jos"), 0xe9, 0,
 * ]);
 * assert.deepEqual(exactEnvironment({ PATH: "/bin" }, () => environ), {
 *   PATH: "/bin",
 *   NAME: "Jos\uDCE9", // toBytes gives 4a 6f 73 e9 back
 * });
 * ```
 */
export function exactEnvironment(
  env: Readonly<Record<string, string>>,
  environ: () => Uint8Array = () => Deno.readFileSync("/proc/self/environ"),
): Record<string, string> {
  const out = { ...env };
  let bytes: Uint8Array;
  try {
    bytes = environ();
  } catch {
    return out;
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  // The usual case: all of it is UTF-8, and Deno left nothing out.
  if (isUtf8(bytes, decoder)) return out;
  for (const entry of nulSeparated(bytes)) {
    if (isUtf8(entry, decoder)) continue;
    const equals = entry.indexOf(0x3d);
    if (equals <= 0) continue;
    const name = toExactText(entry.subarray(0, equals));
    if (!(name in out)) out[name] = toExactText(entry.subarray(equals + 1));
  }
  return out;
}
