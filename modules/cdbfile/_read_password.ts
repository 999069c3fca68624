/**
 * Reads a new password the way `cvm pw` does: from a terminal twice,
 * without echo; from anything else once, one line (its newline stripped).
 *
 * @module
 */

const encoder = new TextEncoder();

/** The input a password is read from: Deno.stdin, or a stand-in in tests. */
export interface PasswordInput {
  /** Whether it is a terminal. */
  isTerminal(): boolean;
  /** Turns echo and line editing off (true) or back on (false). */
  setRaw(raw: boolean): void;
  /** Reads some bytes; null at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Reads one line from a terminal in raw mode, handling erase and kill. */
async function readTerminalLine(input: PasswordInput): Promise<Uint8Array> {
  const line: number[] = [];
  const chunk = new Uint8Array(64);
  try {
    for (;;) {
      const n = await input.read(chunk);
      if (n === null) throw new Error("no password: end of input");
      for (const byte of chunk.subarray(0, n)) {
        if (byte === 0x0d || byte === 0x0a) return Uint8Array.from(line);
        if (byte === 0x03) throw new Error("interrupted");
        if (byte === 0x04 && line.length === 0) {
          throw new Error("no password: end of input");
        }
        if (byte === 0x7f || byte === 0x08) line.pop();
        else if (byte === 0x15) line.length = 0;
        else line.push(byte);
      }
    }
  } finally {
    chunk.fill(0);
    line.fill(0);
  }
}

/** Reads the first line of a non-terminal input (to its end at most). */
async function readPlainLine(input: PasswordInput): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const chunk = new Uint8Array(256);
    const n = await input.read(chunk);
    if (n === null) break;
    const newline = chunk.subarray(0, n).indexOf(0x0a);
    parts.push(chunk.subarray(0, newline >= 0 ? newline : n));
    length += newline >= 0 ? newline : n;
    if (newline >= 0) break;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
    part.fill(0);
  }
  return out;
}

/**
 * Reads a new password: on a terminal, prompted on `prompt` twice without
 * echo, the two required to match; otherwise one line of the input.
 *
 * @param input Where to read (Deno.stdin).
 * @param prompt Where the prompts go (stderr).
 * @returns The password's bytes (the caller wipes them after use).
 * @throws {Error} for an empty password, two that differ, an interrupt or
 *   the end of the input; the message never holds the password.
 * @example
 * ```ts
 * import { readNewPassword } from "./_read_password.ts";
 * const bytes = new TextEncoder().encode("secret\n");
 * let given = false;
 * const input = {
 *   isTerminal: () => false,
 *   setRaw: () => {},
 *   read: (buffer: Uint8Array) => {
 *     if (given) return Promise.resolve(null);
 *     given = true;
 *     buffer.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * new TextDecoder().decode(await readNewPassword(input, () => {})); // "secret"
 * ```
 */
export async function readNewPassword(
  input: PasswordInput = Deno.stdin,
  prompt: (text: string) => void = (text) =>
    Deno.stderr.writeSync(encoder.encode(text)),
): Promise<Uint8Array> {
  if (!input.isTerminal()) {
    const password = await readPlainLine(input);
    if (password.length === 0) throw new Error("empty password");
    return password;
  }
  input.setRaw(true);
  let first: Uint8Array | undefined;
  try {
    prompt("Enter new password: ");
    first = await readTerminalLine(input);
    prompt("\nRetype new password: ");
    const second = await readTerminalLine(input);
    const same = first.length === second.length &&
      first.every((b, i) => b === second[i]);
    second.fill(0);
    if (!same) throw new Error("the passwords do not match");
    if (first.length === 0) throw new Error("empty password");
    return first;
  } catch (e) {
    first?.fill(0);
    throw e;
  } finally {
    prompt("\n"); // echo is off: the Enter key moved no line
    input.setRaw(false);
  }
}
