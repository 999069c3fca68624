/**
 * Challenge-response credentials for the virtual-user modules: a CRAM-MD5
 * response may come as the 32 hex digits a client typed, or as the 16
 * bytes they stand for (the layout of the reference's SASL library); this
 * turns the latter into the former for `checkPassword`.
 *
 * @module
 */

import type { ModuleRequest } from "./backend.ts";

const encoder = new TextEncoder();

/**
 * The request's challenge-response credentials with a 16-byte binary
 * CRAM-MD5 response written as hex text; anything else unchanged.
 *
 * @param request The challenge, response and response type.
 * @returns The same credentials, the response as hex text.
 * @example
 * ```ts
 * import { hexChallengeResponse } from "./_qmail_challenge.ts";
 * hexChallengeResponse({ responseType: "CRAM-MD5", response: new Uint8Array(16) })
 *   .response?.length; // 32
 * ```
 */
export function hexChallengeResponse(
  request: Pick<ModuleRequest, "challenge" | "response" | "responseType">,
): Pick<ModuleRequest, "challenge" | "response" | "responseType"> {
  const { challenge, response, responseType } = request;
  if (
    response === undefined || response.length !== 16 ||
    responseType?.toUpperCase() !== "CRAM-MD5"
  ) {
    return { challenge, response, responseType };
  }
  const hex = Array.from(response, (b) => b.toString(16).padStart(2, "0"));
  return { challenge, response: encoder.encode(hex.join("")), responseType };
}
