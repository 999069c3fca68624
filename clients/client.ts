/**
 * The CVM client library: ask a module (or a chain of them) to validate
 * credentials, over any transport, in protocol version 1 or 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authenticatePassword } from "./client.ts";
 * import { isTemporary } from "../protocol/mod.ts";
 * const result = await authenticatePassword("cvm-local:/nonexistent/cvm.sock", {
 *   account: "bob@example.com", password: "secret",
 * });
 * if (result.code === 0) console.log(result.facts.directory);
 * // Nothing listens there: a temporary failure, at once.
 * assert.equal(isTemporary(result.code), true);
 * ```
 *
 * @module
 */

import {
  type ClientFacts,
  CredentialType,
  CvmError,
  decodeFacts,
  encodeRequestV1,
  encodeRequestV2,
  ErrorCode,
  type Parsed,
  parseResponseV1,
  parseResponseV2,
  type Response,
  type Tagged,
  toBytes,
} from "../protocol/mod.ts";
import { parseModuleAddress, splitChain } from "../protocol/mod.ts";
import { exchangeCommand } from "./transport_command.ts";
import { exchangeLocal } from "./transport_local.ts";

/** Environment-derived settings of the client. */
export interface ClientOptions {
  /** The environment (for `CVM_RANDOM_BYTES`, `CVM_LOOKUP_SECRET`, and command modules). */
  env?: Record<string, string | undefined>;
  /** Protocol version to speak (default 2). */
  version?: 1 | 2;
  /** UDP resend waits (default the reference's 2, 4, 8, 16 s). */
  udpWaitsMs?: readonly number[];
}

/** The outcome of a validation. */
export interface ClientResult {
  /** The result code (0 success, 100 rejected, else temporary). */
  code: number;
  /** The facts (only out-of-scope on failure). */
  facts: ClientFacts;
  /** Why a temporary failure happened, for diagnostics. */
  reason?: string;
}

function environment(options: ClientOptions) {
  return options.env ?? Deno.env.toObject();
}

/**
 * The length of the random tag for UDP: `$CVM_RANDOM_BYTES`, default 8,
 * at most 255.
 */
function randomLength(env: Record<string, string | undefined>): number {
  const text = env.CVM_RANDOM_BYTES;
  if (text === undefined || !/^[0-9]{1,3}$/.test(text)) return 8;
  return Math.min(Number(text), 255);
}

function failure(code: number, reason: string): ClientResult {
  return { code, facts: { all: [] }, reason };
}

/** Turns a reply (and a command's exit status) into a result, strictly. */
function readReply(
  parsed: Parsed<Response>,
  status: number | undefined,
): ClientResult {
  if (!parsed.ok) return failure(parsed.code, parsed.reason);
  // A command module's exit status replaces the result byte.
  const code = status ?? parsed.value.code;
  if (code === ErrorCode.OK && parsed.value.code !== ErrorCode.OK) {
    return failure(ErrorCode.BAD_MODDATA, "exit 0 with a failure reply");
  }
  const facts = decodeFacts(parsed.value.facts, code === ErrorCode.OK);
  if (!facts.ok) {
    if (code === ErrorCode.OK) return failure(facts.code, facts.reason);
    return { code, facts: { all: [] } };
  }
  return { code, facts: facts.value };
}

async function askOne(
  moduleText: string,
  credentials: readonly Tagged[],
  options: ClientOptions,
): Promise<ClientResult> {
  const env = environment(options);
  const address = parseModuleAddress(moduleText);
  if (address === undefined) {
    return failure(ErrorCode.GENERAL, "invalid module string");
  }
  const version = options.version ?? 2;
  const random = address.kind === "udp"
    ? crypto.getRandomValues(new Uint8Array(randomLength(env)))
    : new Uint8Array(0);
  let request: Uint8Array;
  try {
    request = version === 2
      ? encodeRequestV2(random, credentials)
      : encodeV1(credentials);
  } catch (e) {
    return failure((e as CvmError).code ?? ErrorCode.BAD_CLIDATA, String(e));
  }
  const parse = (reply: Uint8Array) =>
    version === 2 ? parseResponseV2(reply, random) : parseResponseV1(reply);
  try {
    switch (address.kind) {
      case "command": {
        const commandEnv: Record<string, string> = {};
        for (const [k, v] of Object.entries(env)) {
          if (v !== undefined) commandEnv[k] = v;
        }
        const { reply, status } = await exchangeCommand(
          address.path,
          request,
          commandEnv,
        );
        return readReply(parse(reply), status);
      }
      case "local": {
        const { reply } = await exchangeLocal(address.path, request);
        return readReply(parse(reply), undefined);
      }
      case "udp": {
        // Loaded when used: its node:dgram and node:dns cost every start.
        const { exchangeUdp, UDP_RETRY_WAITS_MS } = await import(
          "./transport_udp.ts"
        );
        const { reply } = await exchangeUdp(
          address.host,
          address.port,
          request,
          (r) => parse(r).ok,
          options.udpWaitsMs ?? UDP_RETRY_WAITS_MS,
        );
        return readReply(parse(reply), undefined);
      }
    }
  } catch (e) {
    if (e instanceof CvmError) return failure(e.code, e.message);
    return failure(ErrorCode.IO, String(e));
  }
}

/** Version 1 carries account, domain and the other credentials' values. */
function encodeV1(credentials: readonly Tagged[]): Uint8Array {
  const value = (type: number) =>
    credentials.find((c) => c.type === type)?.value ?? new Uint8Array(0);
  const rest = credentials.filter((c) =>
    c.type !== CredentialType.ACCOUNT && c.type !== CredentialType.DOMAIN
  ).map((c) => c.value);
  return encodeRequestV1(
    value(CredentialType.ACCOUNT),
    value(CredentialType.DOMAIN),
    rest,
  );
}

/** The local-use credential type that carries the client's network address. */
export const CLIENT_ADDRESS = 128;

/**
 * The client's network address to send as credential 128:
 * `$CVM_CLIENT_ADDRESS`, else `$TCPREMOTEIP` (ucspi-tcp's), else none. The
 * module checks it; only its first 255 bytes could be sent.
 *
 * @param env The environment.
 * @returns The address text, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddress } from "./client.ts";
 * assert.equal(clientAddress({ TCPREMOTEIP: "192.0.2.1" }), "192.0.2.1");
 * assert.equal(clientAddress({ CVM_CLIENT_ADDRESS: "2001:db8::1", TCPREMOTEIP: "192.0.2.1" }), "2001:db8::1");
 * ```
 */
export function clientAddress(
  env: Record<string, string | undefined>,
): string | undefined {
  const address = env.CVM_CLIENT_ADDRESS || env.TCPREMOTEIP;
  if (!address || toBytes(address).length > 255) return undefined;
  return address;
}

/**
 * Validates credentials with a module or a comma-separated chain of modules:
 * each is asked in turn until one succeeds, fails temporarily, or rejects
 * saying the account is in its scope (out-of-scope 0). A rejection without
 * an out-of-scope fact moves on, as the reference's client does. The last
 * answer wins. If
 * `$CVM_LOOKUP_SECRET` is set and no secret is among the credentials, it is
 * added (version 2). So is the client's network address, credential 128
 * (local use; the penalty layer reads it, modules that do not know it
 * ignore it), from `$CVM_CLIENT_ADDRESS`, else `$TCPREMOTEIP`, when it is
 * not among the credentials already.
 *
 * @param modules The module string or chain.
 * @param credentials The credentials, an ACCOUNT among them.
 * @param options Environment, protocol version.
 * @returns The code and facts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authenticate } from "./client.ts";
 * const enc = new TextEncoder();
 * // cat stands in for a module: the "reply" is the request, which is no reply.
 * const r = await authenticate("/bin/cat", [
 *   { type: 1, value: enc.encode("bob") },
 *   { type: 3, value: enc.encode("secret") },
 * ]);
 * assert.notEqual(r.code, 0);
 * ```
 */
export async function authenticate(
  modules: string,
  credentials: readonly Tagged[],
  options: ClientOptions = {},
): Promise<ClientResult> {
  const env = environment(options);
  const creds = [...credentials];
  const secret = env.CVM_LOOKUP_SECRET;
  if (
    (options.version ?? 2) === 2 && secret !== undefined &&
    !creds.some((c) => c.type === CredentialType.SECRET)
  ) {
    creds.push({ type: CredentialType.SECRET, value: toBytes(secret) });
  }
  const address = clientAddress(env);
  if (
    (options.version ?? 2) === 2 && address !== undefined &&
    !creds.some((c) => c.type === CLIENT_ADDRESS)
  ) {
    creds.push({ type: CLIENT_ADDRESS, value: toBytes(address) });
  }
  const chain = splitChain(modules);
  let result = failure(ErrorCode.GENERAL, "no module given");
  for (const moduleText of chain) {
    result = await askOne(moduleText, creds, { ...options, env });
    // As the reference: a rejection ends the chain only when the module
    // says the account is in its scope (out-of-scope 0); one that says
    // nothing about scope lets the next module try.
    const inScope = result.facts.outOfScope === 0;
    if (result.code !== ErrorCode.PERMFAIL || inScope) break;
  }
  return result;
}

/**
 * Splits the domain off an account name at the last of the split
 * characters (`$CVM_ACCOUNT_SPLIT_CHARS`, default "@"; empty never splits).
 *
 * @param account The account as typed, e.g. "bob@example.com".
 * @param domain The domain otherwise in force.
 * @param splitChars The characters to split at.
 * @returns The account and domain to use.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitAccount } from "./client.ts";
 * assert.deepEqual(splitAccount("bob@example.com", "", "@"), { account: "bob", domain: "example.com" });
 * ```
 */
export function splitAccount(
  account: string,
  domain: string,
  splitChars: string,
): { account: string; domain: string } {
  let at = -1;
  for (const ch of splitChars) at = Math.max(at, account.lastIndexOf(ch));
  if (at < 0) return { account, domain };
  return { account: account.slice(0, at), domain: account.slice(at + 1) };
}

/**
 * The ucspi local domain: `${PROTO}LOCALHOST` (e.g. `$TCPLOCALHOST`).
 *
 * @param env The environment.
 * @returns The domain, or "" when there is none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ucspiDomain } from "./client.ts";
 * assert.equal(ucspiDomain({ PROTO: "TCP", TCPLOCALHOST: "mail.example.com" }), "mail.example.com");
 * ```
 */
export function ucspiDomain(env: Record<string, string | undefined>): string {
  const proto = env.PROTO;
  if (!proto) return "";
  return env[`${proto}LOCALHOST`] ?? "";
}

/** Account, domain and password as a mail front end has them. */
export interface PasswordCredentials {
  /** The account, possibly with `@domain` (split unless told not to). */
  account: string;
  /** The domain otherwise in force (empty or absent: none sent). */
  domain?: string;
  /** The password (empty or absent: none sent). */
  password?: string | Uint8Array;
  /** Further credentials (challenge, response, local types). */
  extra?: Tagged[];
}

/**
 * Convenience wrapper: split the account (unless `split` is false), then
 * send account, the domain and the password, leaving out an empty domain or
 * password.
 *
 * @param modules The module string or chain.
 * @param credentials Account, domain, password.
 * @param options Client options plus `split` (default true).
 * @returns The code and facts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authenticatePassword } from "./client.ts";
 * import { startLocalServer } from "../modules/runtime/mod.ts";
 * const backend = {
 *   lookup: (r: { account: string }) =>
 *     Promise.resolve(r.account === "bob" ? r.account : undefined),
 *   authenticate: (_: string, r: { password?: Uint8Array }) =>
 *     Promise.resolve(new TextDecoder().decode(r.password) === "pw"),
 *   results: () => ({ username: "bob", userid: 1000, groupid: 100, directory: "/home/bob" }),
 * };
 * const dir = await Deno.makeTempDir();
 * const server = startLocalServer(backend, { path: `${dir}/s`, mode: 0o777,
 *   timeoutMs: 1000, maxInFlight: 4, log: () => {}, warn: () => {} });
 * try {
 *   const module = `cvm-local:${dir}/s`;
 *   const ok = await authenticatePassword(module, { account: "bob", password: "pw" });
 *   assert.equal(ok.code, 0);
 *   assert.equal(ok.facts.username, "bob");
 *   const bad = await authenticatePassword(module, { account: "bob", password: "x" });
 *   assert.equal(bad.code, 100);
 * } finally {
 *   await server.stop();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function authenticatePassword(
  modules: string,
  credentials: PasswordCredentials,
  options: ClientOptions & {
    split?: boolean;
    /** Send an empty password too (the reference's version 1 checkpassword does). */
    keepEmptyPassword?: boolean;
  } = {},
): Promise<ClientResult> {
  const env = environment(options);
  let { account, domain = "" } = credentials;
  if (options.split ?? true) {
    ({ account, domain } = splitAccount(
      account,
      domain,
      env.CVM_ACCOUNT_SPLIT_CHARS ?? "@",
    ));
  }
  const tagged: Tagged[] = [
    { type: CredentialType.ACCOUNT, value: toBytes(account) },
  ];
  if (domain !== "") {
    tagged.push({ type: CredentialType.DOMAIN, value: toBytes(domain) });
  }
  const password = typeof credentials.password === "string"
    ? toBytes(credentials.password)
    : credentials.password;
  if (password && (password.length > 0 || options.keepEmptyPassword)) {
    tagged.push({ type: CredentialType.PASSWORD, value: password });
  }
  tagged.push(...(credentials.extra ?? []));
  return authenticate(modules, tagged, { ...options, env });
}

/**
 * The credentials of a version 1 request as the reference's v1 clients send
 * them: account, domain (even empty) and each credential as given.
 *
 * @param account The account name (not split).
 * @param domain The domain, possibly empty.
 * @param values The credential strings (passwords, or the secret).
 * @returns The tagged credentials for `authenticate(…, { version: 1 })`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { v1Credentials } from "./client.ts";
 * assert.equal(v1Credentials("bob", "", ["pw"]).length, 3);
 * ```
 */
export function v1Credentials(
  account: string,
  domain: string,
  values: readonly string[],
): Tagged[] {
  return [
    { type: CredentialType.ACCOUNT, value: toBytes(account) },
    { type: CredentialType.DOMAIN, value: toBytes(domain) },
    ...values.map((v) => ({
      type: CredentialType.PASSWORD,
      value: toBytes(v),
    })),
  ];
}
