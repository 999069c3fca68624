/**
 * Version 1 of the CVM protocol: NUL-terminated strings. A request is byte 1,
 * account, domain, at most one credential, then an empty string; a response
 * is the result byte, facts as tag byte + NUL-terminated value, then NUL.
 *
 * @module
 */

import { CredentialType, ErrorCode, FactType, MAX_PACKET } from "./codes.ts";
import { CvmError } from "./error.ts";
import type { Parsed, Request, Response, Tagged } from "./types.ts";

/** Splits `bytes[from..]` into NUL-terminated strings; fails if the last lacks its NUL. */
function splitNul(bytes: Uint8Array, from: number): Uint8Array[] | undefined {
  const parts: Uint8Array[] = [];
  let start = from;
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      parts.push(bytes.subarray(start, i)); // views: the buffer is the request's
      start = i + 1;
    }
  }
  return start === bytes.length ? parts : undefined;
}

function hasNul(value: Uint8Array): boolean {
  return value.includes(0);
}

/**
 * Encodes a version 1 request.
 *
 * @param account The account name.
 * @param domain The domain (may be empty).
 * @param credentials The credential strings (a password, or the secret).
 * @returns The packet.
 * @throws {CvmError} BAD_CLIDATA for a NUL inside a value or a packet over 512 bytes.
 * @example
 * ```ts
 * import { encodeRequestV1 } from "./v1.ts";
 * const enc = new TextEncoder();
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   encodeRequestV1(enc.encode("bob"), new Uint8Array(0), [enc.encode("pw")]),
 *   new Uint8Array([1, 98, 111, 98, 0, 0, 112, 119, 0, 0]), // 01 "bob" 00 00 "pw" 00 00
 * );
 * ```
 */
export function encodeRequestV1(
  account: Uint8Array,
  domain: Uint8Array,
  credentials: readonly Uint8Array[],
): Uint8Array {
  const parts = [account, domain, ...credentials];
  let size = 2;
  for (const p of parts) {
    if (hasNul(p)) {
      throw new CvmError(ErrorCode.BAD_CLIDATA, "NUL inside a value");
    }
    size += p.length + 1;
  }
  if (size > MAX_PACKET) {
    throw new CvmError(ErrorCode.BAD_CLIDATA, "request over 512 bytes");
  }
  const out = new Uint8Array(size);
  out[0] = 1;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

/**
 * Parses a version 1 request strictly. The credential, when present, is
 * returned as a PASSWORD; the module runtime treats it as the secret in
 * lookup mode. More than one credential, a missing terminator or trailing
 * bytes are BAD_CLIDATA.
 *
 * @param bytes The whole request.
 * @returns The request as version-neutral credentials, or BAD_CLIDATA.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequestV1 } from "./v1.ts";
 * assert.equal(parseRequestV1(new Uint8Array([1, 97, 0, 0, 0])).ok, true);
 * ```
 */
export function parseRequestV1(bytes: Uint8Array): Parsed<Request> {
  const fail = (reason: string) => ({
    ok: false as const,
    code: ErrorCode.BAD_CLIDATA,
    reason,
  });
  if (bytes.length > MAX_PACKET) return fail("request over 512 bytes");
  if (bytes[0] !== 1) return fail("not a version 1 request");
  const parts = splitNul(bytes, 1);
  if (parts === undefined) return fail("missing final NUL");
  // account, domain, [credential], "" — the empty string must be last.
  if (parts.length < 3 || parts[parts.length - 1].length !== 0) {
    return fail("missing final NUL");
  }
  if (parts.length > 4) return fail("more than one credential");
  const credentials: Tagged[] = [
    { type: CredentialType.ACCOUNT, value: parts[0] },
  ];
  if (parts[1].length > 0) {
    credentials.push({ type: CredentialType.DOMAIN, value: parts[1] });
  }
  if (parts.length === 4) {
    credentials.push({ type: CredentialType.PASSWORD, value: parts[2] });
  }
  return {
    ok: true,
    value: { version: 1, random: new Uint8Array(0), credentials },
  };
}

/**
 * Encodes a version 1 response. A failure carries only the out-of-scope fact.
 *
 * @param response The code and facts (`random` is ignored).
 * @returns The packet.
 * @throws {CvmError} BAD_MODDATA for a NUL inside a fact or a packet over 512 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponseV1 } from "./v1.ts";
 * assert.deepEqual(encodeResponseV1({ code: 100, random: new Uint8Array(0), facts: [] }), new Uint8Array([100, 0]));
 * ```
 */
export function encodeResponseV1(response: Response): Uint8Array {
  const facts = response.code === ErrorCode.OK
    ? response.facts
    : response.facts.filter((f) => f.type === FactType.OUTOFSCOPE);
  let size = 2;
  for (const f of facts) {
    if (hasNul(f.value)) {
      throw new CvmError(ErrorCode.BAD_MODDATA, `NUL inside fact ${f.type}`);
    }
    size += f.value.length + 2;
  }
  if (size > MAX_PACKET) {
    throw new CvmError(ErrorCode.BAD_MODDATA, "response over 512 bytes");
  }
  const out = new Uint8Array(size);
  out[0] = response.code;
  let at = 1;
  for (const f of facts) {
    out[at] = f.type;
    out.set(f.value, at + 1);
    at += f.value.length + 2;
  }
  return out;
}

/**
 * Parses a version 1 response on the client side: strict for a success,
 * lenient for a failure (its facts are read when they parse).
 *
 * @param bytes The whole response.
 * @returns The response, or BAD_MODDATA.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResponseV1 } from "./v1.ts";
 * const r = parseResponseV1(new Uint8Array([100, 0]));
 * assert.equal(r.ok && r.value.code, 100);
 * ```
 */
export function parseResponseV1(bytes: Uint8Array): Parsed<Response> {
  const fail = (reason: string) => ({
    ok: false as const,
    code: ErrorCode.BAD_MODDATA,
    reason,
  });
  if (bytes.length === 0) return fail("empty response");
  if (bytes.length > MAX_PACKET) return fail("response over 512 bytes");
  const code = bytes[0];
  const facts = parseFactsV1(bytes);
  if (code !== ErrorCode.OK) {
    return {
      ok: true,
      value: { code, random: new Uint8Array(0), facts: facts ?? [] },
    };
  }
  if (facts === undefined) return fail("malformed facts");
  return { ok: true, value: { code, random: new Uint8Array(0), facts } };
}

function parseFactsV1(bytes: Uint8Array): Tagged[] | undefined {
  const facts: Tagged[] = [];
  let at = 1;
  for (;;) {
    if (at >= bytes.length) return undefined;
    const type = bytes[at];
    if (type === 0) return at === bytes.length - 1 ? facts : undefined;
    const end = bytes.indexOf(0, at + 1);
    if (end < 0) return undefined;
    facts.push({ type, value: bytes.subarray(at + 1, end) });
    at = end + 1;
  }
}
