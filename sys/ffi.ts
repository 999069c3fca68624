/**
 * Small helpers shared by the FFI bindings: lazy library opening, C string
 * building and reading, and errno access.
 *
 * @module
 */

import { toBytes, toExactText } from "../protocol/mod.ts";

/**
 * Wraps a factory so it runs at most once, on first use.
 *
 * @param make The function producing the value (e.g. a `Deno.dlopen` call).
 * @returns A function returning the value, creating it on the first call.
 * @example
 * ```ts
 * import { lazy } from "./ffi.ts";
 * const libc = lazy(() => Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } }));
 * libc().symbols.getpid();
 * ```
 */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * Builds a NUL-terminated C string from text or bytes.
 *
 * @param value The string (encoded by `toBytes`, so a name decoded by
 *   `toExactText` is its own bytes again) or the raw bytes.
 * @returns The bytes plus a final NUL, or undefined when the value itself contains a NUL (C would silently truncate it).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cString } from "./ffi.ts";
 * assert.deepEqual(cString("root"), new Uint8Array([114, 111, 111, 116, 0]));
 * assert.equal(cString("a\0b"), undefined);
 * ```
 */
export function cString(
  value: string | Uint8Array,
): Uint8Array<ArrayBuffer> | undefined {
  const bytes = typeof value === "string" ? toBytes(value) : value;
  if (bytes.includes(0)) return undefined;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * Reads a NUL-terminated C string as text with `toExactText`: bytes that
 * are not UTF-8 (an ISO-8859-1 name or home) stay distinct, and `toBytes`
 * gives them back.
 *
 * @param pointer The address of the string; null reads as "".
 * @returns The decoded text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCString } from "./ffi.ts";
 * assert.equal(readCString(Deno.UnsafePointer.of(new Uint8Array([104, 105, 0]))), "hi");
 * ```
 */
export function readCString(pointer: Deno.PointerValue): string {
  if (pointer === null) return "";
  const view = new Deno.UnsafePointerView(pointer);
  let length = 0;
  while (view.getUint8(length) !== 0) length++;
  const bytes = new Uint8Array(length);
  view.copyInto(bytes);
  return toExactText(bytes);
}

/**
 * Reads the pointer stored at the start of an 8-byte out-parameter buffer.
 *
 * @param slot The buffer a C function wrote a pointer into.
 * @returns The pointer, or null for NULL.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPointer } from "./ffi.ts";
 * assert.equal(readPointer(new BigUint64Array(1)), null);
 * ```
 */
export function readPointer(slot: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(slot[0]);
}

const libc = lazy(() =>
  Deno.dlopen("libc.so.6", {
    __errno_location: { parameters: [], result: "pointer" },
  })
);

/**
 * Reads the calling thread's errno, right after a failed libc call.
 *
 * @returns The current errno value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errno } from "./ffi.ts";
 * const code = errno(); // of the last failed C call on this thread
 * assert.equal(Number.isInteger(code), true);
 * ```
 */
export function errno(): number {
  const where = libc().symbols.__errno_location();
  return where === null ? 0 : new Deno.UnsafePointerView(where).getInt32();
}

// Linux x86-64/arm64 numbers for the errors these calls can produce; the
// symbolic name makes failures readable without a lookup table at hand.
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  7: "E2BIG",
  8: "ENOEXEC",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  26: "ETXTBSY",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  40: "ELOOP",
};

/**
 * Builds the Error thrown when a C call fails, naming the call and errno.
 *
 * @param call What was called, e.g. `setuid(1000)`.
 * @param code The errno value.
 * @returns An Error such as "setuid(1000) failed: EPERM (errno 1)", with `code` set to the errno name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoError } from "./ffi.ts";
 * const e = errnoError("chdir(/nonexistent)", 2);
 * assert.equal(e.message, "chdir(/nonexistent) failed: ENOENT (errno 2)");
 * assert.equal(e.code, "ENOENT");
 * ```
 */
export function errnoError(
  call: string,
  code: number,
): Error & { errno: number; code: string } {
  const name = ERRNO_NAMES[code] ?? `E${code}`;
  return Object.assign(new Error(`${call} failed: ${name} (errno ${code})`), {
    errno: code,
    code: name,
  });
}
