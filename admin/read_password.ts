/**
 * Reads a password for an admin command as `doveadm pw` does: from a
 * terminal without echo (twice when it is a new one, so a typing mistake
 * is caught), or else one line of stdin, its newline stripped (a missing
 * newline is fine).
 *
 * @module
 */

/** Why no password was read. */
export class PasswordInputError extends Error {
  /**
   * Makes the error.
   *
   * @param message What went wrong, for the admin.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PasswordInputError } from "./read_password.ts";
   * assert.equal(new PasswordInputError("Passwords don't match").message, "Passwords don't match");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "PasswordInputError";
  }
}

/** The longest password read, in bytes (a longer line is refused). */
const MAX_PASSWORD = 4096;

/** The byte values a terminal in raw mode sends for editing keys. */
const KEY = {
  ctrlC: 0x03,
  ctrlD: 0x04,
  backspace: 0x08,
  newline: 0x0a,
  enter: 0x0d,
  ctrlU: 0x15,
  delete: 0x7f,
} as const;

/**
 * Reads one line of a stream: the bytes before the first newline (or all
 * of them when there is none).
 *
 * @param input The stream.
 * @returns The line's bytes.
 * @throws {PasswordInputError} When the line is longer than 4096 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLine } from "./read_password.ts";
 * const input = ReadableStream.from([new TextEncoder().encode("pw\nrest")]);
 * assert.equal(new TextDecoder().decode(await readLine(input)), "pw");
 * ```
 */
export async function readLine(
  input: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  const line: number[] = [];
  const reader = input.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const end = value.indexOf(KEY.newline);
      for (const b of end < 0 ? value : value.subarray(0, end)) {
        if (line.length === MAX_PASSWORD) {
          throw new PasswordInputError("the password is too long");
        }
        line.push(b);
      }
      if (end >= 0) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Uint8Array.from(line);
}

/**
 * Reads a line from the terminal on stdin, which is in raw mode (no echo),
 * after a prompt on stderr. Backspace and Delete erase, Ctrl-U starts
 * over, Ctrl-C and Ctrl-D (on an empty line) give up.
 */
async function readHidden(prompt: string): Promise<Uint8Array> {
  const text = new TextEncoder();
  await Deno.stderr.write(text.encode(prompt));
  const line: number[] = [];
  const byte = new Uint8Array(1);
  try {
    for (;;) {
      const n = await Deno.stdin.read(byte);
      if (n === null || byte[0] === KEY.ctrlC) {
        throw new PasswordInputError("no password given");
      }
      const b = byte[0];
      if (b === KEY.enter || b === KEY.newline) break;
      if (b === KEY.ctrlD) {
        if (line.length === 0) {
          throw new PasswordInputError("no password given");
        }
      } else if (b === KEY.backspace || b === KEY.delete) line.pop();
      else if (b === KEY.ctrlU) line.length = 0;
      else line.push(b);
      if (line.length > MAX_PASSWORD) {
        throw new PasswordInputError("the password is too long");
      }
    }
  } finally {
    await Deno.stderr.write(text.encode("\r\n"));
  }
  const password = Uint8Array.from(line);
  line.fill(0);
  return password;
}

/**
 * Runs `read` with the terminal on stdin in raw mode: set before the first
 * prompt, so that nothing typed ahead is echoed, and put back after.
 */
async function withoutEcho<T>(read: () => Promise<T>): Promise<T> {
  Deno.stdin.setRaw(true);
  try {
    return await read();
  } finally {
    Deno.stdin.setRaw(false);
  }
}

/**
 * Reads a password: from a terminal, without echo, once or (`twice`)
 * twice, the two required to agree; else one line of stdin.
 *
 * @param options `twice`: ask again on a terminal (a new password).
 * @returns The password's bytes.
 * @throws {PasswordInputError} For an empty password, two that differ, or
 *   a terminal read given up.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Not a terminal: one line of stdin. A child shows it without touching ours.
 * const program = `import { readPassword } from "${import.meta.resolve("./read_password.ts")}";
 *   const password = await readPassword({ twice: true });
 *   console.log(password.length);`;
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["eval", program], stdin: "piped", stdout: "piped",
 * }).spawn();
 * const writer = child.stdin.getWriter();
 * await writer.write(new TextEncoder().encode("s3cret\n"));
 * await writer.close();
 * const { code, stdout } = await child.output();
 * assert.equal(code, 0);
 * assert.equal(new TextDecoder().decode(stdout), "6\n");
 * ```
 */
export async function readPassword(
  options: { twice?: boolean } = {},
): Promise<Uint8Array> {
  let password: Uint8Array;
  if (Deno.stdin.isTerminal()) {
    password = await withoutEcho(async () => {
      const first = await readHidden(
        options.twice ? "Enter new password: " : "Enter password to verify: ",
      );
      if (options.twice) {
        const again = await readHidden("Retype new password: ");
        const same = again.length === first.length &&
          again.every((b, i) => b === first[i]);
        again.fill(0);
        if (!same) {
          first.fill(0);
          throw new PasswordInputError("Passwords don't match!");
        }
      }
      return first;
    });
  } else {
    password = await readLine(Deno.stdin.readable);
  }
  if (password.length === 0) {
    throw new PasswordInputError("Empty passwords are not allowed");
  }
  return password;
}
