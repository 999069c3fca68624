/**
 * The line reader the SASL exchanges read responses with.
 *
 * @module
 */

/**
 * Reads CRLF- or LF-terminated lines from a byte stream as the reference's
 * line reader does: the newline and one carriage return before it are
 * removed; a last line without a newline loses its last character (the
 * reference assumes it was the newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "./line_reader.ts";
 * const input = new Blob(["AUTH PLAIN\r\n"]).stream(); // in a server: the connection
 * const reader = new LineReader(input);
 * assert.equal(await reader.readLine(), "AUTH PLAIN");
 * assert.equal(await reader.readLine(), undefined); // end of input
 * ```
 */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #eof = false;

  /**
   * @param stream The input.
   */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /**
   * Reads the next line.
   *
   * @returns The line without its terminator, or undefined at the end.
   */
  readLine = async (): Promise<string | undefined> => {
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a);
      if (nl >= 0 || this.#eof) {
        if (nl < 0 && this.#buffer.length === 0) return undefined;
        const end = nl >= 0 ? nl : this.#buffer.length;
        let line = this.#buffer.subarray(0, nl >= 0 ? end : end - 1);
        this.#buffer = this.#buffer.subarray(nl >= 0 ? nl + 1 : end);
        if (line.length > 0 && line[line.length - 1] === 0x0d) {
          line = line.subarray(0, line.length - 1);
        }
        return new TextDecoder().decode(line);
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#eof = true;
        continue;
      }
      const joined = new Uint8Array(this.#buffer.length + value.length);
      joined.set(this.#buffer);
      joined.set(value, this.#buffer.length);
      this.#buffer = joined;
    }
  };
}
