/**
 * Raw file descriptors a program inherited (checkpassword's fd 3): whether
 * one was inherited at all, reading it whatever it is (a file, a pipe, a
 * socket), and closing it, through libc's fcntl, read and close.
 *
 * @module
 */

import { errno, errnoError, lazy } from "./ffi.ts";

const libc = lazy(() =>
  Deno.dlopen("libc.so.6", {
    fcntl: { parameters: ["i32", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  })
);

const F_GETFD = 1;
const FD_CLOEXEC = 1;
const EINTR = 4;

/**
 * Whether a descriptor was inherited from the program that ran us: open,
 * and without close-on-exec. The Deno runtime opens all of its own
 * descriptors close-on-exec, and when the caller left `fd` closed the
 * runtime may have taken that number for itself (its event poller takes 3):
 * such a descriptor is not ours to read or close.
 *
 * @param fd The descriptor.
 * @returns True when it is open and was inherited.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isInheritedFd } from "./fd.ts";
 * assert.equal(isInheritedFd(0), true); // stdin is inherited
 * ```
 */
export function isInheritedFd(fd: number): boolean {
  const flags = libc().symbols.fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) === 0;
}

/**
 * Reads from a descriptor until end of input or until `max` bytes arrived
 * (what the C programs do with read(2); a read interrupted by a signal is
 * retried). Blocks the thread: for short inputs at a program's start.
 *
 * @param fd The descriptor.
 * @param max The most bytes to read.
 * @returns The bytes read; throws an Error naming read and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFdSync } from "./fd.ts";
 * assert.equal(readFdSync(0, 0).length, 0); // nothing asked for, nothing read
 * ```
 */
export function readFdSync(fd: number, max: number): Uint8Array {
  const buffer = new Uint8Array(max);
  let length = 0;
  while (length < max) {
    const n = Number(
      libc().symbols.read(
        fd,
        buffer.subarray(length),
        BigInt(max - length),
      ),
    );
    if (n === 0) break;
    if (n < 0) {
      const code = errno();
      if (code === EINTR) continue;
      buffer.fill(0);
      throw errnoError(`read(${fd})`, code);
    }
    length += n;
  }
  const bytes = buffer.slice(0, length);
  buffer.fill(0);
  return bytes;
}

/**
 * Closes a descriptor (close(2)).
 *
 * @param fd The descriptor.
 * @returns Nothing; throws an Error naming close and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd } from "./fd.ts";
 * try {
 *   closeFd(-1);
 * } catch (e) {
 *   assert.equal((e as { code: string }).code, "EBADF");
 * }
 * ```
 */
export function closeFd(fd: number): void {
  if (libc().symbols.close(fd) !== 0) {
    throw errnoError(`close(${fd})`, errno());
  }
}
