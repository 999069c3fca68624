/**
 * Raw requests for the tests of names that are not UTF-8: the clients take
 * names as text, so these build the request bytes themselves and read the
 * reply bytes as they come, from a command-mode module or a local socket.
 *
 * @module
 */

import {
  encodeRequestV2,
  parseResponseV2,
  type Tagged,
} from "../../protocol/mod.ts";
import { run } from "../_helpers.ts";

/** The random bytes every request here carries (echoed in the reply). */
const RANDOM = new Uint8Array([7, 1, 2, 3]);

/**
 * The bytes of a byte string: each character (code 0–255) is one byte, so
 * `"jos\xe9"` is ISO-8859-1 é and `"jos\xc3\xa9"` its UTF-8 spelling.
 *
 * @param text A byte string.
 * @returns Its bytes.
 */
export function bytesOf(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new Error(`not a byte string: ${text}`);
    out[i] = code;
  }
  return out;
}

/**
 * A byte string shown with its bytes above 0x7e as `\xNN`, for step names.
 *
 * @param text A byte string.
 * @returns The printable form.
 */
export function shown(text: string): string {
  return text.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * A version 2 request: account, then domain and password when given, each a
 * byte string.
 *
 * @param account The account name.
 * @param password The password, undefined to send none.
 * @param domain The domain, undefined to send none.
 * @returns The request bytes.
 */
export function rawRequest(
  account: string,
  password?: string,
  domain?: string,
): Uint8Array {
  const credentials: Tagged[] = [{ type: 1, value: bytesOf(account) }];
  if (domain !== undefined) {
    credentials.push({ type: 2, value: bytesOf(domain) });
  }
  if (password !== undefined) {
    credentials.push({ type: 3, value: bytesOf(password) });
  }
  return encodeRequestV2(RANDOM, credentials);
}

/** What a module answered: its exit status (command mode) and the reply bytes. */
export interface RawAnswer {
  /** The exit status; the reply's first byte for a local socket. */
  code: number;
  /** The reply as bytes. */
  reply: number[];
}

/**
 * The facts of a reply as byte strings (one character per byte), first
 * value of each type.
 *
 * @param answer The reply.
 * @returns Fact type → its value.
 */
export function replyFacts(answer: RawAnswer): Map<number, string> {
  const parsed = parseResponseV2(Uint8Array.from(answer.reply), RANDOM);
  if (!parsed.ok) throw new Error(`unreadable reply: ${parsed.reason}`);
  const facts = new Map<number, string>();
  for (const { type, value } of parsed.value.facts) {
    if (!facts.has(type)) facts.set(type, String.fromCharCode(...value));
  }
  return facts;
}

/**
 * Runs a module in command mode on one raw request.
 *
 * @param module The program.
 * @param env Its environment.
 * @param request The request bytes.
 * @returns Its status and reply.
 */
export async function askCommand(
  module: string,
  env: Record<string, string>,
  request: Uint8Array,
): Promise<RawAnswer> {
  const out = await run(module, [], { env, stdin: request });
  return { code: out.code, reply: Array.from(out.stdoutBytes) };
}

/**
 * Sends one raw request to a module's local socket.
 *
 * @param socket The socket's path.
 * @param request The request bytes.
 * @returns The reply (its first byte as the code).
 */
export async function askLocal(
  socket: string,
  request: Uint8Array,
): Promise<RawAnswer> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    await conn.write(request);
    await conn.closeWrite();
    const buf = new Uint8Array(1024);
    let n = 0;
    for (;;) {
      const r = await conn.read(buf.subarray(n));
      if (r === null) break;
      n += r;
    }
    return { code: buf[0], reply: Array.from(buf.subarray(0, n)) };
  } finally {
    conn.close();
  }
}
