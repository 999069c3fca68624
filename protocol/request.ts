/**
 * Version-neutral entry points of the module side: parse whichever version a
 * request is, and answer in the same version.
 *
 * @module
 */

import { ErrorCode } from "./codes.ts";
import { encodeResponseV1, parseRequestV1 } from "./v1.ts";
import { encodeResponseV2, parseRequestV2 } from "./v2.ts";
import type { Request, Response } from "./types.ts";

/** How to frame a reply: version 1, version 2, or 0 for an unreadable request. */
export type ReplyVersion = 0 | 1 | 2;

/** The result of `parseRequest`. */
export type RequestParse =
  | { ok: true; value: Request }
  | {
    ok: false;
    code: number;
    reason: string;
    version: ReplyVersion;
    random: Uint8Array;
  };

/**
 * Parses a request of either version, strictly. An empty input, an unknown
 * version byte, a truncated packet, a length running past the end, a missing
 * final NUL, bytes after it or over 512 bytes: BAD_CLIDATA.
 *
 * @param bytes The whole request.
 * @returns The request, or the failure and how to frame the reply.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequest } from "./request.ts";
 * const r = parseRequest(new Uint8Array([3]));
 * assert.equal(r.ok, false); // unknown version
 * ```
 */
export function parseRequest(bytes: Uint8Array): RequestParse {
  if (bytes[0] === 2) {
    const r = parseRequestV2(bytes);
    return r.ok ? r : { ...r, version: 2 };
  }
  if (bytes[0] === 1) {
    const r = parseRequestV1(bytes);
    return r.ok ? r : { ...r, version: 1, random: new Uint8Array(0) };
  }
  return {
    ok: false,
    code: ErrorCode.BAD_CLIDATA,
    reason: bytes.length === 0 ? "empty request" : "unknown protocol version",
    version: 0,
    random: new Uint8Array(0),
  };
}

/**
 * Encodes a response in the framing of the request's version. Version 0 (an
 * unreadable request) is answered as the reference does: the code and a NUL.
 *
 * @param version The version to answer in.
 * @param response The response.
 * @returns The packet.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponse } from "./request.ts";
 * assert.deepEqual(encodeResponse(0, { code: 2, random: new Uint8Array(0), facts: [] }), new Uint8Array([2, 0]));
 * ```
 */
export function encodeResponse(
  version: ReplyVersion,
  response: Response,
): Uint8Array {
  if (version === 2) return encodeResponseV2(response);
  if (version === 1) return encodeResponseV1(response);
  return new Uint8Array([response.code, 0]);
}
