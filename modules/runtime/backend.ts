/**
 * The interface every module backend implements, and the request view it
 * receives. The runtime (`runtime.ts`) does everything else: parsing,
 * lookup mode, logging, framing.
 *
 * @module
 */

import {
  CredentialType,
  CvmError,
  ErrorCode,
  toExactText,
  toText,
} from "../../protocol/mod.ts";
import type { Facts, Request, Tagged } from "../../protocol/mod.ts";

/** A parsed request as a backend sees it. */
export interface ModuleRequest {
  /**
   * The account name as text: UTF-8 decoded, each byte that is not UTF-8
   * kept as a lone surrogate (`toExactText`), so different names never
   * read the same; `account.isWellFormed()` says whether it was UTF-8.
   */
  account: string;
  /** The domain (decoded as the account is), empty when none was sent. */
  domain: string;
  /** Whether a domain credential was sent at all. */
  domainGiven: boolean;
  /** The password credential, when sent and not empty. */
  password?: Uint8Array;
  /** The challenge credential (APOP, CRAM-MD5), when sent. */
  challenge?: Uint8Array;
  /** The response credential, when sent. */
  response?: Uint8Array;
  /** The response type credential (e.g. "CRAM-MD5"), when sent. */
  responseType?: string;
  /** Every credential as received. */
  credentials: Tagged[];
  /** The protocol version of the request. */
  version: 1 | 2;
}

/** A permanent rejection, possibly saying the account is not this module's. */
export class Rejection extends CvmError {
  /** The out-of-scope fact to send: 1 = not mine, ask the next module. */
  readonly outOfScope?: number;

  /**
   * Makes the rejection.
   *
   * @param outOfScope The out-of-scope value, or undefined to send none.
   * @param message Why, for a log.
   */
  constructor(outOfScope?: number, message = "rejected") {
    super(ErrorCode.PERMFAIL, message);
    this.outOfScope = outOfScope;
  }
}

/**
 * A module backend: find the account, check the credentials, report facts.
 * Temporary failures are thrown as `CvmError` (a dead database is IO); an
 * account that is not this module's is thrown as `Rejection(1)`.
 */
export interface Backend<A = unknown> {
  /** Finds the account; undefined means unknown (PERMFAIL). */
  lookup(request: ModuleRequest): Promise<A | undefined>;
  /** Checks the credentials against what lookup found; throws NOCRED when none fit. */
  authenticate(account: A, request: ModuleRequest): Promise<boolean>;
  /**
   * For an account lookup did not find, spends the work `authenticate`
   * would (e.g. a crypt(3) hash) and accepts nothing, so that timing does
   * not tell which accounts exist.
   */
  decoy?(request: ModuleRequest): Promise<void>;
  /** The facts to send back on success. */
  results(account: A, request: ModuleRequest): Facts;
  /** Releases connections and files when a server stops. */
  close?(): Promise<void>;
  /**
   * Forgets what was read and opened (file caches, database connections)
   * so that the next request reads and connects afresh: a server calls it
   * on SIGHUP. Requests already running may finish with what they had.
   */
  reload?(): Promise<void>;
}

/**
 * Builds the backend's view of a parsed request. In lookup mode a version 1
 * credential is the secret, not a password.
 *
 * @param request The parsed request.
 * @returns The view.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toModuleRequest } from "./backend.ts";
 * const r = toModuleRequest({ version: 2, random: new Uint8Array(0), credentials: [
 *   { type: 1, value: new TextEncoder().encode("bob") },
 * ] });
 * assert.equal(r.account, "bob");
 * ```
 */
export function toModuleRequest(request: Request): ModuleRequest {
  const get = (type: number) =>
    request.credentials.find((c) => c.type === type)?.value;
  const domain = get(CredentialType.DOMAIN);
  const responseType = get(CredentialType.RESPONSE_TYPE);
  // A password of length 0 is no password (NOCRED), as in the reference,
  // whose modules test a credential's length, never its presence.
  const password = get(CredentialType.PASSWORD);
  return {
    account: toExactText(get(CredentialType.ACCOUNT) ?? new Uint8Array(0)),
    domain: domain ? toExactText(domain) : "",
    domainGiven: domain !== undefined,
    password: password?.length ? password : undefined,
    challenge: get(CredentialType.CHALLENGE),
    response: get(CredentialType.RESPONSE),
    responseType: responseType ? toText(responseType) : undefined,
    credentials: request.credentials,
    version: request.version,
  };
}
