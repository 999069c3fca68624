/**
 * One connection to one LDAP server through `ldapts`: TCP, TLS from the
 * start (`ldaps://`) or StartTLS, or a local socket (`ldapi://`), with
 * certificate and host name verification always on, and a deadline on
 * every step. A connection never reconnects by itself: once its socket is
 * gone it stays dead, so an operation can never run on a fresh,
 * unauthenticated connection behind our back.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";
import { Client, type Entry, ResultCodeError } from "ldapts";
import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { LdapEndpoint } from "./uri.ts";

/** How to reach a server: TLS, and how long each step may take. */
export interface ConnectionOptions {
  /** Upgrade `ldap://` connections with StartTLS before anything else. */
  startTls: boolean;
  /** PEM certificates to trust instead of the default roots. */
  ca?: Uint8Array;
  /** The deadline of each step (connect, TLS, bind, search), in ms. */
  timeoutMs: number;
}

/** How far a search goes below its base. */
export type SearchScope = "base" | "one" | "sub";

/** A search, as the backend asks for it. */
export interface SearchQuery {
  /** The base DN. */
  base: string;
  /** The scope. */
  scope: SearchScope;
  /** The filter text (values already escaped). */
  filter: string;
  /** The attributes to return. */
  attributes: string[];
  /** Attributes to return as raw bytes (e.g. userPassword). */
  binaryAttributes?: string[];
  /** The most entries wanted (0: no limit). */
  sizeLimit: number;
}

/** The server answered an operation with a result code other than success. */
export class LdapResultError extends Error {
  /** The LDAP result code (49: invalid credentials). */
  readonly resultCode: number;

  /**
   * Makes the error.
   *
   * @param resultCode The LDAP result code.
   * @param message What the server said.
   */
  constructor(resultCode: number, message: string) {
    super(message);
    this.name = "LdapResultError";
    this.resultCode = resultCode;
  }
}

/** An operation that took longer than the deadline (a temporary failure). */
export class LdapTimeoutError extends CvmError {
  /**
   * Makes the error.
   *
   * @param message Which server and which step.
   */
  constructor(message: string) {
    super(ErrorCode.IO, message);
    this.name = "LdapTimeoutError";
  }
}

/** LDAP result code 49: the DN or password is wrong. */
export const INVALID_CREDENTIALS = 49;

/** An open connection. Failures are `LdapResultError` or `CvmError(IO)`. */
export interface LdapConnection {
  /** The server it is connected to. */
  readonly endpoint: LdapEndpoint;
  /** Whether the socket is still open. */
  alive(): boolean;
  /** A simple bind; the password never appears in an error. */
  bind(dn: string, password: string): Promise<void>;
  /** Runs a search; references are ignored. */
  search(query: SearchQuery): Promise<Entry[]>;
  /** Says goodbye (unbind) and closes; never throws. */
  close(): Promise<void>;
  /** Closes at once. */
  destroy(): void;
}

/** Removes every secret from a message. */
function scrub(message: string, secrets: readonly string[]): string {
  for (const secret of secrets) {
    if (secret !== "") message = message.split(secret).join("***");
  }
  return message;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message.split("\n")[0].trim();
    return text || (typeof code === "string" ? code : error.name);
  }
  return String(error);
}

/**
 * Turns what the client library threw into our errors: a result code from
 * the server is an `LdapResultError`; anything else (refused, reset,
 * timed out, TLS) is a temporary `CvmError(IO)` naming the URI.
 */
function translate(
  endpoint: LdapEndpoint,
  error: unknown,
  secrets: readonly string[],
): Error {
  if (error instanceof CvmError || error instanceof LdapResultError) {
    return error;
  }
  if (error instanceof ResultCodeError) {
    return new LdapResultError(error.code, scrub(describe(error), secrets));
  }
  return new CvmError(
    ErrorCode.IO,
    `${endpoint.uri}: ${scrub(describe(error), secrets)}`,
  );
}

/** Runs `operation`, or calls `expire` and rejects with IO after `ms`. */
function withDeadline<T>(
  operation: Promise<T>,
  ms: number,
  endpoint: LdapEndpoint,
  what: string,
  expire: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expire();
      reject(new LdapTimeoutError(`${endpoint.uri}: ${what} timed out`));
    }, ms);
  });
  // The operation's own failure after the deadline is of no interest.
  operation.catch(() => {});
  return Promise.race([operation, deadline]).finally(() => clearTimeout(timer));
}

/** Connects the socket (TLS from the start for `ldaps://`), within the deadline. */
function connectSocket(
  endpoint: LdapEndpoint,
  tlsOptions: tls.ConnectionOptions,
  timeoutMs: number,
): Promise<net.Socket> {
  const socket = endpoint.kind === "ldapi"
    ? net.connect({ path: endpoint.path })
    : endpoint.kind === "ldap"
    ? net.connect({ host: endpoint.host, port: endpoint.port })
    : tls.connect({ ...tlsOptions, port: endpoint.port });
  // Errors after the client library takes the socket over are its own;
  // before that (and after it lets go) they must not go unhandled.
  socket.on("error", () => {});
  const ready = new Promise<net.Socket>((resolve, reject) => {
    socket.once(
      endpoint.kind === "ldaps" ? "secureConnect" : "connect",
      () => resolve(socket),
    );
    socket.once("error", (e) => reject(e));
    socket.once("close", () => reject(new Error("connection closed")));
  });
  return withDeadline(
    ready.catch((e) => {
      throw translate(endpoint, e, []);
    }),
    timeoutMs,
    endpoint,
    "connect",
    () => socket.destroy(),
  ).catch((e) => {
    socket.destroy();
    throw e;
  });
}

/**
 * Opens a connection: TCP or the local socket, then TLS (from the start
 * for `ldaps://`, with StartTLS for `ldap://` when asked), each within
 * the deadline. The certificate must chain to `ca` (or the default
 * roots) and name the host. Any failure here, TLS included, is the
 * server's or the network's trouble: a temporary `CvmError(IO)`.
 *
 * @param endpoint The server.
 * @param options TLS and the deadline.
 * @returns The open connection, not yet bound.
 * @throws {CvmError} IO when the server cannot be reached or TLS fails.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openConnection } from "./connection.ts";
 * const endpoint = { kind: "ldap", uri: "ldap://127.0.0.1:1", host: "127.0.0.1", port: 1 } as const;
 * // Nothing listens on port 1: a temporary failure (IO, 4).
 * await assert.rejects(
 *   openConnection(endpoint, { startTls: false, timeoutMs: 1000 }),
 *   (e: { code?: number }) => e.code === 4,
 * );
 * ```
 */
export async function openConnection(
  endpoint: LdapEndpoint,
  options: ConnectionOptions,
): Promise<LdapConnection> {
  const host = endpoint.kind === "ldapi" ? "localhost" : endpoint.host;
  const tlsOptions: tls.ConnectionOptions = {
    rejectUnauthorized: true,
    host,
    // SNI takes a name, never an address; verification uses `host`.
    ...(net.isIP(host) ? {} : { servername: host }),
    ...(options.ca ? { ca: Buffer.from(options.ca) } : {}),
  };
  let current = await connectSocket(endpoint, tlsOptions, options.timeoutMs);
  let dead = false;
  const sockets = [current];
  const destroy = () => {
    dead = true;
    for (const socket of sockets) socket.destroy();
  };
  current.once("close", () => dead = true);
  // One socket for the life of the client: the library would otherwise
  // reconnect silently, unbound, on the next operation after a drop.
  let handedOver = false;
  const createConnection = (() => {
    if (handedOver) throw new Error("connection lost");
    handedOver = true;
    return current;
  }) as unknown as typeof net.connect;
  let upgraded = false;
  const createSecureConnection = ((given: tls.ConnectionOptions) => {
    if (upgraded) throw new Error("connection lost");
    upgraded = true;
    const secure = tls.connect({ ...given, ...tlsOptions });
    secure.on("error", () => {});
    sockets.push(secure);
    current = secure;
    secure.once("close", () => dead = true);
    return secure;
  }) as unknown as typeof tls.connect;
  const client = new Client({
    url: "ldap://localhost",
    createConnection,
    createSecureConnection,
    strictDN: false,
  });
  const alive = () => !dead && !current.destroyed;
  const step = <T>(
    what: string,
    run: () => Promise<T>,
    secrets: string[] = [],
  ) =>
    withDeadline(
      (async () => {
        if (!alive()) {
          throw new CvmError(ErrorCode.IO, `${endpoint.uri}: connection lost`);
        }
        try {
          return await run();
        } catch (e) {
          throw translate(endpoint, e, secrets);
        }
      })(),
      options.timeoutMs,
      endpoint,
      what,
      destroy,
    );
  if (endpoint.kind === "ldap" && options.startTls) {
    try {
      await step("StartTLS", () => client.startTLS({}));
    } catch (e) {
      destroy();
      // The server refusing StartTLS is as temporary as a bad handshake.
      throw e instanceof CvmError ? e : new CvmError(
        ErrorCode.IO,
        `${endpoint.uri}: StartTLS: ${(e as Error).message}`,
      );
    }
  }
  return {
    endpoint,
    alive,
    bind: (dn, password) =>
      step("bind", () => client.bind(dn, password), [password]),
    search: (query) =>
      step("search", async () =>
        (await client.search(query.base, {
          scope: query.scope,
          filter: query.filter,
          attributes: query.attributes,
          explicitBufferAttributes: query.binaryAttributes ?? [],
          sizeLimit: query.sizeLimit,
          derefAliases: "never",
        })).searchEntries),
    async close() {
      if (alive() && handedOver) {
        await withDeadline(
          client.unbind(),
          Math.min(options.timeoutMs, 1000),
          endpoint,
          "unbind",
          destroy,
        ).catch(() => {});
      }
      destroy();
    },
    destroy,
  };
}
