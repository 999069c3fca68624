/**
 * The directory as the backend sees it: searches as the service account,
 * and user binds that never share a connection with anything else. Server
 * modes keep a small pool of each; command mode uses one connection for
 * everything, re-binding it as the user last. Servers are tried in the
 * order given whenever a connection is opened; one that cannot be reached
 * (or whose TLS fails) is a temporary failure, never a rejection.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { Entry } from "ldapts";
import {
  INVALID_CREDENTIALS,
  type LdapConnection,
  LdapResultError,
  LdapTimeoutError,
  openConnection,
  type SearchQuery,
} from "./connection.ts";
import type { LdapSettings } from "./settings.ts";

/** Service connections kept in server modes (searches share them). */
export const SEARCH_POOL_SIZE = 2;

/** User-bind connections kept in server modes (one bind at a time each). */
export const BIND_POOL_SIZE = 4;

/** Result codes of a user bind that mean "not with this password". */
const BIND_REFUSALS = new Set([
  INVALID_CREDENTIALS,
  48, // inappropriateAuthentication
  50, // insufficientAccessRights
  53, // unwillingToPerform (e.g. a locked or expired account)
]);

/** Result codes that say the server is busy or going away: try again later. */
const TRANSIENT = new Set([
  1, // operationsError
  3, // timeLimitExceeded
  51, // busy
  52, // unavailable
  80, // other
]);

/** LDAP result code 13: the server wants TLS. */
const CONFIDENTIALITY_REQUIRED = 13;

/** What the backend asks of the directory. */
export interface Directory {
  /** Searches as the service account. */
  search(query: SearchQuery): Promise<Entry[]>;
  /**
   * Binds as `dn` with `password` where no other request can see it.
   * True: accepted; false: refused (wrong password, locked).
   */
  userBind(dn: string, password: string): Promise<boolean>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Where diagnostics go (stderr in the programs). */
export type DiagnosticSink = (line: string) => void;

/** Keeps the last known state of each server, to report changes once. */
function healthReporter(report: DiagnosticSink) {
  const failing = new Map<string, boolean>();
  return {
    failed(uri: string, why: string) {
      if (failing.get(uri) !== true) report(`${why}`);
      failing.set(uri, true);
    },
    ok(uri: string) {
      if (failing.get(uri) === true) report(`${uri}: reachable again`);
      failing.set(uri, false);
    },
  };
}

/** Turns a refused service bind into the configuration error naming the variable. */
function serviceBindError(
  settings: LdapSettings,
  error: LdapResultError,
): CvmError {
  if (error.resultCode === INVALID_CREDENTIALS) {
    return new CvmError(
      ErrorCode.CONFIG,
      `$${settings.bindPasswordVariable} (or $CVM_LDAP_BINDDN) was refused by the server: invalid credentials`,
    );
  }
  if (error.resultCode === CONFIDENTIALITY_REQUIRED) {
    return new CvmError(
      ErrorCode.CONFIG,
      "the server requires TLS: set $CVM_LDAP_STARTTLS=1 or use an ldaps:// $CVM_LDAP_URI",
    );
  }
  return new CvmError(
    ErrorCode.CONFIG,
    `$CVM_LDAP_BINDDN: the server refused the service bind (result ${error.resultCode})`,
  );
}

/** What an operation's failure means for the request: IO, CONFIG or BAD_MODDATA. */
function operationError(settings: LdapSettings, error: unknown): Error {
  if (!(error instanceof LdapResultError)) return error as Error;
  const code = error.resultCode;
  if (TRANSIENT.has(code)) {
    return new CvmError(ErrorCode.IO, `LDAP result ${code}: ${error.message}`);
  }
  if (code === 32) {
    return new CvmError(
      ErrorCode.CONFIG,
      `$CVM_LDAP_BASE or $CVM_LDAP_GROUP_BASE: no such object on the server`,
    );
  }
  if (code === CONFIDENTIALITY_REQUIRED) {
    return serviceBindError(settings, error);
  }
  return new CvmError(
    ErrorCode.CONFIG,
    `the server refused the search (LDAP result ${code}): check $CVM_LDAP_FILTER and the service account's rights`,
  );
}

/**
 * Opens a connection to the first server that answers, in order, bound as
 * the service account (anonymously without one). The bind is also the
 * proof that the server answers at all: a hung server accepts TCP
 * connections and is only found out by waiting for a reply.
 */
async function connect(
  settings: LdapSettings,
  health: ReturnType<typeof healthReporter>,
): Promise<LdapConnection> {
  let last: Error | undefined;
  for (const endpoint of settings.endpoints) {
    let connection: LdapConnection | undefined;
    try {
      connection = await openConnection(endpoint, {
        startTls: settings.startTls,
        ca: settings.ca,
        timeoutMs: settings.timeoutMs,
      });
      await connection.bind(settings.bindDn ?? "", settings.bindPassword ?? "");
      health.ok(endpoint.uri);
      return connection;
    } catch (e) {
      connection?.destroy();
      if (e instanceof LdapResultError && !TRANSIENT.has(e.resultCode)) {
        throw serviceBindError(settings, e);
      }
      last = e instanceof CvmError ? e : new CvmError(
        ErrorCode.IO,
        `${endpoint.uri}: ${(e as Error).message}`,
      );
      health.failed(endpoint.uri, last.message);
    }
  }
  throw last;
}

/** Whether an operation that failed so is worth one more try on a new connection. */
function retryable(error: unknown): boolean {
  return error instanceof CvmError && error.code === ErrorCode.IO &&
    !(error instanceof LdapTimeoutError);
}

/** The outcome of a user bind's result. */
function bindOutcome(settings: LdapSettings, error: unknown): false {
  if (error instanceof LdapResultError && BIND_REFUSALS.has(error.resultCode)) {
    return false;
  }
  throw operationError(settings, error);
}

/**
 * Command mode: one connection, opened on first use, re-bound as the user
 * last. Should a search follow a user bind all the same, the connection is
 * bound as the service account again first: a search never runs as a user.
 */
function singleConnection(
  settings: LdapSettings,
  health: ReturnType<typeof healthReporter>,
): Directory {
  let opened: Promise<LdapConnection> | undefined;
  let asUser = false;
  const get = () => opened ??= connect(settings, health);
  return {
    async search(query) {
      try {
        const connection = await get();
        if (asUser) {
          await connection.bind(
            settings.bindDn ?? "",
            settings.bindPassword ?? "",
          );
          asUser = false;
        }
        return await connection.search(query);
      } catch (e) {
        throw operationError(settings, e);
      }
    },
    async userBind(dn, password) {
      try {
        const connection = await get();
        // Whatever the outcome, the service identity is gone.
        asUser = true;
        await connection.bind(dn, password);
        return true;
      } catch (e) {
        return bindOutcome(settings, e);
      }
    },
    async close() {
      const connection = await opened?.catch(() => undefined);
      await connection?.close();
    },
  };
}

/** A fixed number of connections handed out one request at a time. */
function exclusivePool(size: number, open: () => Promise<LdapConnection>) {
  const idle: LdapConnection[] = [];
  const waiting: (() => void)[] = [];
  let count = 0;
  let closed = false;
  const wake = () => waiting.shift()?.();
  return {
    async acquire(): Promise<{ connection: LdapConnection; reused: boolean }> {
      while (true) {
        if (closed) throw new CvmError(ErrorCode.IO, "shutting down");
        const kept = idle.pop();
        if (kept !== undefined) {
          if (kept.alive()) return { connection: kept, reused: true };
          count--;
          kept.destroy();
          continue;
        }
        if (count < size) {
          count++;
          try {
            return { connection: await open(), reused: false };
          } catch (e) {
            count--;
            wake();
            throw e;
          }
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    release(connection: LdapConnection, keep: boolean) {
      if (keep && !closed && connection.alive()) idle.push(connection);
      else {
        count--;
        connection.destroy();
      }
      wake();
    },
    async close() {
      closed = true;
      while (waiting.length > 0) wake();
      await Promise.all(idle.splice(0).map((c) => c.close()));
    },
  };
}

/** Server modes: a few shared service connections, a few exclusive bind connections. */
function pooledConnections(
  settings: LdapSettings,
  health: ReturnType<typeof healthReporter>,
): Directory {
  const slots: (Promise<LdapConnection> | undefined)[] = new Array(
    SEARCH_POOL_SIZE,
  ).fill(undefined);
  let next = 0;
  let closed = false;
  const service = async (): Promise<
    { connection: LdapConnection; reused: boolean }
  > => {
    if (closed) throw new CvmError(ErrorCode.IO, "shutting down");
    const index = next++ % SEARCH_POOL_SIZE;
    const kept = slots[index];
    if (kept !== undefined) {
      const connection = await kept.catch(() => undefined);
      if (connection?.alive()) return { connection, reused: true };
      connection?.destroy();
      // The first request to notice replaces it; the others share the new one.
      if (slots[index] === kept) slots[index] = undefined;
    }
    let opening = slots[index];
    if (opening === undefined) {
      const fresh = connect(settings, health);
      fresh.catch(() => {
        if (slots[index] === fresh) slots[index] = undefined;
      });
      slots[index] = opening = fresh;
    }
    return { connection: await opening, reused: false };
  };
  const binders = exclusivePool(
    BIND_POOL_SIZE,
    () => connect(settings, health),
  );
  return {
    async search(query) {
      for (let attempt = 0;; attempt++) {
        const { connection, reused } = await service();
        try {
          return await connection.search(query);
        } catch (e) {
          if (e instanceof CvmError) connection.destroy();
          // A kept connection the server dropped: once more on a new one.
          if (!(reused && attempt === 0 && retryable(e))) {
            throw operationError(settings, e);
          }
        }
      }
    },
    async userBind(dn, password) {
      for (let attempt = 0;; attempt++) {
        const { connection, reused } = await binders.acquire();
        let keep = true;
        try {
          await connection.bind(dn, password);
          return true;
        } catch (e) {
          keep = !(e instanceof CvmError);
          if (!(reused && attempt === 0 && retryable(e))) {
            return bindOutcome(settings, e);
          }
        } finally {
          binders.release(connection, keep);
        }
      }
    },
    async close() {
      closed = true;
      const kept = await Promise.all(
        slots.map((s) => s?.catch(() => undefined)),
      );
      await Promise.all([
        ...kept.map((c) => c?.close()),
        binders.close(),
      ]);
    },
  };
}

/**
 * Makes the directory access for a backend: pools in server modes
 * (`persistent`), one connection in command mode.
 *
 * @param settings The module's settings.
 * @param persistent Whether connections are kept (server modes).
 * @param report Where to say that a server became unreachable or came back.
 * @returns The directory.
 * @example
 * ```ts
 * import { createDirectory } from "./directory.ts";
 * import { readLdapSettings } from "./settings.ts";
 * const directory = createDirectory(
 *   readLdapSettings({ CVM_LDAP_URI: "ldap://127.0.0.1:1", CVM_LDAP_BASE: "dc=x" }),
 *   false,
 *   () => {},
 * );
 * await directory.close();
 * ```
 */
export function createDirectory(
  settings: LdapSettings,
  persistent: boolean,
  report: DiagnosticSink,
): Directory {
  const health = healthReporter(report);
  return persistent
    ? pooledConnections(settings, health)
    : singleConnection(settings, health);
}
