/**
 * The assertions of the FFI tests: values from libc compared by their JSON
 * form, with a message that shows both.
 *
 * @module
 */

/** Throws `message` unless `condition` holds. */
export function assert(
  condition: boolean,
  message: string,
): asserts condition {
  if (!condition) throw new Error(message);
}

/** Throws unless `actual` and `expected` have the same JSON form. */
export function assertEquals<T>(actual: T, expected: T): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `expected ${e}, got ${a}`);
}
