/**
 * Version 2 of the CVM protocol: a version (or result) byte, a length-prefixed
 * random tag, tagged length-prefixed strings, a final NUL; 512 bytes at most.
 *
 * @module
 */

import { ErrorCode, MAX_PACKET } from "./codes.ts";
import { CvmError } from "./error.ts";
import type { Parsed, Request, Response, Tagged } from "./types.ts";

/** A failed request parse, with what is known for the error reply. */
export interface RequestFailure {
  /** Always false: the parse failed. */
  ok: false;
  /** The result code to answer with (BAD_CLIDATA). */
  code: number;
  /** Why, for a diagnostic. */
  reason: string;
  /** The random bytes to echo, empty when they could not be read. */
  random: Uint8Array;
}

function encodePacket(
  first: number,
  random: Uint8Array,
  items: readonly Tagged[],
  tooLong: number,
): Uint8Array {
  if (random.length > 255) {
    throw new CvmError(tooLong, "random tag longer than 255 bytes");
  }
  let size = 2 + random.length + 1;
  for (const item of items) {
    if (item.value.length > 255) {
      throw new CvmError(tooLong, `value of tag ${item.type} over 255 bytes`);
    }
    size += 2 + item.value.length;
  }
  if (size > MAX_PACKET) {
    throw new CvmError(tooLong, `packet of ${size} bytes exceeds 512`);
  }
  const out = new Uint8Array(size);
  out[0] = first;
  out[1] = random.length;
  out.set(random, 2);
  let at = 2 + random.length;
  for (const item of items) {
    out[at] = item.type;
    out[at + 1] = item.value.length;
    out.set(item.value, at + 2);
    at += 2 + item.value.length;
  }
  out[at] = 0;
  return out;
}

/** Reads tagged strings from `at` to a final NUL that must be the last byte. */
function parseTagged(bytes: Uint8Array, at: number): Parsed<Tagged[]> {
  const items: Tagged[] = [];
  for (;;) {
    if (at >= bytes.length) {
      return { ok: false, code: 0, reason: "missing final NUL" };
    }
    const type = bytes[at];
    if (type === 0) {
      if (at !== bytes.length - 1) {
        return { ok: false, code: 0, reason: "bytes after the final NUL" };
      }
      return { ok: true, value: items };
    }
    if (at + 1 >= bytes.length) {
      return { ok: false, code: 0, reason: "tag without a length" };
    }
    const end = at + 2 + bytes[at + 1];
    if (end > bytes.length) {
      return { ok: false, code: 0, reason: "length runs past the end" };
    }
    // A view, not a copy: a request's buffer is its own (never reused).
    items.push({ type, value: bytes.subarray(at + 2, end) });
    at = end;
  }
}

/**
 * Encodes a version 2 request.
 *
 * @param random The anti-spoofing tag (0–255 bytes).
 * @param credentials The credentials in wire order.
 * @returns The packet.
 * @throws {CvmError} BAD_CLIDATA when a value exceeds 255 bytes or the packet 512.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRequestV2 } from "./v2.ts";
 * assert.deepEqual(encodeRequestV2(new Uint8Array(0), [{ type: 1, value: new Uint8Array([97]) }]), new Uint8Array([2, 0, 1, 1, 97, 0]));
 * ```
 */
export function encodeRequestV2(
  random: Uint8Array,
  credentials: readonly Tagged[],
): Uint8Array {
  return encodePacket(2, random, credentials, ErrorCode.BAD_CLIDATA);
}

/**
 * Parses a version 2 request strictly: anything malformed is BAD_CLIDATA,
 * including bytes after the final NUL and a credential type given twice.
 * The random tag and the values are views into `bytes`, not copies: do not
 * reuse the buffer while the request is in use.
 *
 * @param bytes The whole request.
 * @returns The request, or the failure with the random bytes to echo.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequestV2 } from "./v2.ts";
 * const r = parseRequestV2(new Uint8Array([2, 0, 1, 1, 97, 0]));
 * assert.equal(r.ok, true);
 * ```
 */
export function parseRequestV2(
  bytes: Uint8Array,
): { ok: true; value: Request } | RequestFailure {
  const fail = (reason: string, random: Uint8Array = new Uint8Array(0)) => ({
    ok: false as const,
    code: ErrorCode.BAD_CLIDATA,
    reason,
    random,
  });
  if (bytes.length > MAX_PACKET) return fail("request over 512 bytes");
  if (bytes[0] !== 2) return fail("not a version 2 request");
  if (bytes.length < 2) return fail("truncated before the random length");
  const randomEnd = 2 + bytes[1];
  if (randomEnd > bytes.length) return fail("random tag runs past the end");
  const random = bytes.subarray(2, randomEnd);
  const items = parseTagged(bytes, randomEnd);
  if (!items.ok) return fail(items.reason, random);
  const list = items.value;
  for (let i = 1; i < list.length; i++) {
    for (let j = 0; j < i; j++) {
      if (list[j].type === list[i].type) {
        return fail(`credential ${list[i].type} given twice`, random);
      }
    }
  }
  return {
    ok: true,
    value: { version: 2, random, credentials: items.value },
  };
}

/**
 * Encodes a version 2 response. A failure carries only the out-of-scope
 * fact, whatever else is passed.
 *
 * @param response The code, the random bytes to echo and the facts.
 * @returns The packet.
 * @throws {CvmError} BAD_MODDATA when the facts do not fit in 512 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponseV2 } from "./v2.ts";
 * assert.deepEqual(encodeResponseV2({ code: 100, random: new Uint8Array([7]), facts: [] }), new Uint8Array([100, 1, 7, 0]));
 * ```
 */
export function encodeResponseV2(response: Response): Uint8Array {
  const facts = response.code === ErrorCode.OK
    ? response.facts
    : response.facts.filter((f) => f.type === 16);
  return encodePacket(
    response.code,
    response.random,
    facts,
    ErrorCode.BAD_MODDATA,
  );
}

/**
 * Parses a version 2 response on the client side. A success must be
 * well-formed to the last byte; a failure needs only a matching random tag
 * (its facts are read when they parse, for out-of-scope). Anything else is
 * BAD_MODDATA.
 *
 * @param bytes The whole response.
 * @param random The random bytes that were sent.
 * @returns The response, or BAD_MODDATA with the reason.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResponseV2 } from "./v2.ts";
 * const r = parseResponseV2(new Uint8Array([100, 0, 0]), new Uint8Array(0));
 * assert.equal(r.ok && r.value.code, 100);
 * ```
 */
export function parseResponseV2(
  bytes: Uint8Array,
  random: Uint8Array,
): Parsed<Response> {
  const fail = (reason: string) => ({
    ok: false as const,
    code: ErrorCode.BAD_MODDATA,
    reason,
  });
  if (bytes.length === 0) return fail("empty response");
  if (bytes.length > MAX_PACKET) return fail("response over 512 bytes");
  const code = bytes[0];
  if (bytes.length < 2 + random.length || bytes[1] !== random.length) {
    return fail("random tag not echoed");
  }
  for (let i = 0; i < random.length; i++) {
    if (bytes[2 + i] !== random[i]) return fail("random tag not echoed");
  }
  const items = parseTagged(bytes, 2 + random.length);
  if (code !== ErrorCode.OK) {
    const facts = items.ok ? items.value : [];
    return { ok: true, value: { code, random, facts } };
  }
  if (!items.ok) return fail(items.reason);
  return { ok: true, value: { code, random, facts: items.value } };
}
