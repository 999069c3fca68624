/**
 * The numbers of the CVM interface: result codes, credential types and fact
 * types, with the messages the reference clients print for each code.
 *
 * @module
 */

/** Result codes: the first byte of a response, the exit status of a command module. */
export const ErrorCode = {
  OK: 0,
  GENERAL: 1,
  BAD_CLIDATA: 2,
  BAD_MODDATA: 3,
  IO: 4,
  NOFACT: 5,
  CONFIG: 6,
  NOCRED: 7,
  PERMFAIL: 100,
} as const;

const MESSAGES: Readonly<Record<number, string>> = {
  0: "No error",
  1: "General error",
  2: "Invalid data from client",
  3: "Invalid data from module",
  4: "Input/Output error",
  5: "Fact missing in data from client",
  6: "Configuration error",
  7: "Credential missing in data from module",
  100: "Credentials rejected",
};

/**
 * The message the reference clients print for a result code.
 *
 * @param code A result code.
 * @returns The reference's text, or "Unknown error" for a code it does not name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorMessage } from "./codes.ts";
 * assert.equal(errorMessage(100), "Credentials rejected");
 * ```
 */
export function errorMessage(code: number): string {
  return MESSAGES[code] ?? "Unknown error";
}

/**
 * Whether a result code is a temporary failure (anything but OK and PERMFAIL).
 *
 * @param code A result code.
 * @returns True for a temporary failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTemporary } from "./codes.ts";
 * assert.equal(isTemporary(4), true);
 * ```
 */
export function isTemporary(code: number): boolean {
  return code !== ErrorCode.OK && code !== ErrorCode.PERMFAIL;
}

/** Credential types (request tags). 128–255 are for local use. */
export const CredentialType = {
  ACCOUNT: 1,
  DOMAIN: 2,
  PASSWORD: 3,
  SECRET: 4,
  CHALLENGE: 5,
  RESPONSE: 6,
  RESPONSE_TYPE: 7,
} as const;

/** Fact types (response tags). */
export const FactType = {
  USERNAME: 1,
  USERID: 2,
  GROUPID: 3,
  REALNAME: 4,
  DIRECTORY: 5,
  SHELL: 6,
  GROUPNAME: 7,
  SUPP_GROUPID: 8,
  SYS_USERNAME: 9,
  SYS_DIRECTORY: 10,
  OFFICE_LOCATION: 11,
  WORK_PHONE: 12,
  HOME_PHONE: 13,
  DOMAIN: 14,
  MAILBOX: 15,
  OUTOFSCOPE: 16,
} as const;

/** The largest request or response, in bytes, either protocol version. */
export const MAX_PACKET = 512;
