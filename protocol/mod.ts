/**
 * The CVM wire protocol, versions 1 and 2: pure encoders and parsers, no I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRequestV2, parseRequest } from "./mod.ts";
 * const bytes = encodeRequestV2(new Uint8Array(0), [
 *   { type: 1, value: new TextEncoder().encode("bob") },
 * ]);
 * assert.equal(parseRequest(bytes).ok, true);
 * ```
 *
 * @module
 */
export * from "./codes.ts";
export * from "./error.ts";
export * from "./facts.ts";
export * from "./module_address.ts";
export * from "./request.ts";
export * from "./text.ts";
export * from "./types.ts";
export * from "./v1.ts";
export * from "./v2.ts";
