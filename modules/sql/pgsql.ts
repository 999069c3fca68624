/**
 * cvm-pgsql: accounts from PostgreSQL through the `postgres` client
 * (postgres.js). Connection settings are libpq's environment variables
 * (`PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`
 * or the password file `PGPASSFILE`/`~/.pgpass`, `PGOPTIONS`,
 * `PGCONNECT_TIMEOUT`, `PGAPPNAME`, `PGSSLMODE`); the query, post-query and
 * comparison are `$CVM_PGSQL_QUERY`, `$CVM_PGSQL_POSTQ`, `$CVM_PGSQL_PWCMP`.
 * Server modes keep a few connections with the statements prepared on each,
 * and pipeline concurrent requests over them; a connection that fails is
 * dropped and the next request opens a new one.
 *
 * @module
 */

import { existsSync, readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { Backend } from "../runtime/mod.ts";
import type { BackendContext } from "../runtime/mod.ts";
import { SqlSockets } from "./sockets.ts";
import {
  createSqlBackend,
  databaseError,
  parseSqlConnections,
  readSqlSettings,
  type SqlAccount,
  type SqlDriver,
  type SqlModuleSpec,
  type SqlValue,
} from "./framework.ts";

/** The framework's view of this module: its variable prefix and placeholders. */
export const PGSQL_SPEC: SqlModuleSpec = {
  prefix: "CVM_PGSQL",
  style: "dollar",
  postQuery: true,
};

/**
 * Connections kept open in server modes (`$CVM_SQL_CONNECTIONS` sets
 * another number): postgres.js pipelines concurrent statements on each,
 * and on 2 cores 1 or 2 served 16 clients as fast as 4, and 8 slower.
 */
export const PGSQL_POOL_SIZE = 2;

/** libpq's default socket directory on Debian. */
const DEFAULT_SOCKET_DIR = "/var/run/postgresql";

/** The SSL modes libpq knows, as the client takes them. */
const SSL_MODES: Record<
  string,
  false | "allow" | "prefer" | "require" | "verify-full"
> = {
  disable: false,
  allow: "allow",
  prefer: "prefer",
  require: "require",
  "verify-ca": "verify-full",
  "verify-full": "verify-full",
};

/** How to reach the server, from libpq's variables. */
export interface PgConnectionSettings {
  /** A host name, an address, or a socket directory (starting with "/"). */
  host: string;
  /** The port (also names the socket file in a socket directory). */
  port: number;
  /** The database. */
  database: string;
  /** The role to log in as. */
  user: string;
  /** The password, from `PGPASSWORD` or the password file, when there is one. */
  password?: string;
  /** Server options (`-c name=value …`), when set. */
  options?: string;
  /** How long to wait for a connection, in seconds (0: no limit). */
  connectTimeout: number;
  /** The application name reported to the server. */
  applicationName: string;
  /** The SSL mode (`PGSSLMODE`); unset means no SSL. */
  ssl: false | "allow" | "prefer" | "require" | "verify-full";
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function decimal(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  max: number,
): number {
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) > max) {
    throw new CvmError(ErrorCode.CONFIG, `$${name} is not a valid number`);
  }
  return Number(text);
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "";
  }
}

/** Splits a password-file line at unescaped colons, undoing `\:` and `\\`. */
function passwordFields(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && i + 1 < line.length) field += line[++i];
    else if (c === ":" && fields.length < 4) {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/**
 * Finds a password in libpq's password file format (`host:port:database:
 * user:password`, `*` matching anything; a socket directory matches
 * `localhost`). The file is ignored when others may read it, as libpq does.
 *
 * @param path The file.
 * @param host The host or socket directory.
 * @param port The port.
 * @param database The database.
 * @param user The user.
 * @returns The password of the first matching line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { passwordFromFile } from "./pgsql.ts";
 * assert.equal(passwordFromFile("/nonexistent", "db", 5432, "mail", "cvm"), undefined);
 * ```
 */
export function passwordFromFile(
  path: string,
  host: string,
  port: number,
  database: string,
  user: string,
): string | undefined {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) return undefined;
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const wanted = [
    host.startsWith("/") ? "localhost" : host,
    String(port),
    database,
    user,
  ];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const fields = passwordFields(line.replace(/\r$/, ""));
    if (fields.length !== 5) continue;
    if (wanted.every((w, i) => fields[i] === "*" || fields[i] === w)) {
      return fields[4];
    }
  }
  return undefined;
}

/**
 * Reads libpq's connection variables. Unset ones take libpq's defaults:
 * the local socket directory, port 5432, the operating-system user name,
 * a database named after the user, the password file `~/.pgpass`.
 *
 * @param env The environment.
 * @returns The settings.
 * @throws {CvmError} CONFIG naming a variable that is not valid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pgConnectionSettings } from "./pgsql.ts";
 * assert.equal(pgConnectionSettings({ PGHOST: "127.0.0.1", PGUSER: "bob" }).database, "bob");
 * ```
 */
export function pgConnectionSettings(
  env: Record<string, string | undefined>,
): PgConnectionSettings {
  const user = nonEmpty(env.PGUSER) ?? osUser();
  const host = nonEmpty(env.PGHOSTADDR) ?? nonEmpty(env.PGHOST) ??
    (existsSync(DEFAULT_SOCKET_DIR) ? DEFAULT_SOCKET_DIR : "localhost");
  const port = decimal(env, "PGPORT", 5432, 65535);
  const database = nonEmpty(env.PGDATABASE) ?? user;
  const timeout = decimal(env, "PGCONNECT_TIMEOUT", 10, 86400);
  const sslText = nonEmpty(env.PGSSLMODE);
  const ssl = sslText === undefined ? false : SSL_MODES[sslText];
  if (ssl === undefined) {
    throw new CvmError(ErrorCode.CONFIG, "$PGSSLMODE is not an SSL mode");
  }
  const passfile = nonEmpty(env.PGPASSFILE) ??
    (env.HOME ? join(env.HOME, ".pgpass") : undefined);
  const password = nonEmpty(env.PGPASSWORD) ??
    (passfile === undefined
      ? undefined
      : passwordFromFile(passfile, host, port, database, user));
  return {
    host,
    port,
    database,
    user,
    password,
    options: nonEmpty(env.PGOPTIONS),
    // libpq: 0 means wait forever; a value under 2 s counts as 2 s.
    connectTimeout: timeout === 0 ? 0 : Math.max(timeout, 2),
    applicationName: nonEmpty(env.PGAPPNAME) ?? "cvm-pgsql",
    ssl,
  };
}

/** Every built-in type comes back as the server's text, as libpq gives it. */
const identity = (value: string) => value;
const TEXT_TYPES = {
  number: {
    to: 0,
    from: [21, 23, 26, 700, 701],
    serialize: String,
    parse: identity,
  },
  json: { to: 114, from: [114, 3802], serialize: String, parse: identity },
  boolean: { to: 16, from: [16], serialize: String, parse: identity },
  date: {
    to: 1184,
    from: [1082, 1114, 1184],
    serialize: String,
    parse: identity,
  },
  bytea: { to: 17, from: [17], serialize: String, parse: identity },
};

/**
 * A driver running statements on PostgreSQL: in server modes a few kept
 * connections, each statement prepared once per connection, concurrent
 * requests pipelined; in command mode one connection and no prepared
 * statement. A failed connection is dropped; the next request reconnects
 * at once. A statement past its deadline destroys every connection (they
 * share one server, and pipelined statements wait behind a hung one).
 *
 * @param settings Where the server is.
 * @param persistent Keep connections and prepared statements (server modes).
 * @param connections How many connections server modes keep.
 * @returns The driver.
 * @example
 * ```ts
 * import { createPgDriver, pgConnectionSettings } from "./pgsql.ts";
 * const driver = createPgDriver(pgConnectionSettings({ PGHOST: "127.0.0.1" }), false);
 * await driver.close();
 * ```
 */
export function createPgDriver(
  settings: PgConnectionSettings,
  persistent: boolean,
  connections: number = PGSQL_POOL_SIZE,
): SqlDriver {
  const sockets = new SqlSockets();
  const options = {
    // Our own sockets, to destroy when a statement outlives its deadline.
    socket: () =>
      Object.assign(
        sockets.open(
          settings.host.startsWith("/")
            ? { path: `${settings.host}/.s.PGSQL.${settings.port}` }
            : { host: settings.host, port: settings.port },
        ),
        // The client reads the host from its socket for TLS server names.
        { host: settings.host },
      ),
    host: settings.host,
    port: settings.port,
    database: settings.database,
    username: settings.user,
    password: settings.password ?? "",
    ssl: settings.ssl,
    max: persistent ? connections : 1,
    prepare: persistent,
    fetch_types: false,
    idle_timeout: 0,
    max_lifetime: 0,
    connect_timeout: settings.connectTimeout,
    // Reconnect at the next request, however long the outage was.
    backoff: () => 0,
    debug: false,
    // Notices would otherwise be printed into the log.
    onnotice: () => {},
    connection: {
      application_name: settings.applicationName,
      ...(settings.options ? { options: settings.options } : {}),
    },
    types: TEXT_TYPES,
  } as postgres.Options<typeof TEXT_TYPES>;
  // The driver is loaded here, not by this file's imports: a program that
  // never connects to PostgreSQL (cvm-sqlite, cvm-mysql) never resolves it.
  const loading = import("postgres").then((m) => m.default);
  const connect = () => loading.then((make) => make(options));
  let sql = connect();
  sql.catch(() => {}); // a driver that cannot load fails each statement (IO)
  const secrets = [settings.password];
  return {
    async run(statement, values, deadline) {
      const onDeadline = () => sockets.destroyAll();
      deadline?.addEventListener("abort", onDeadline, { once: true });
      try {
        const result = await (await sql).unsafe(statement.text, [...values], {
          prepare: persistent,
        }).values();
        return {
          columns: result.columns?.length ?? 0,
          rows: result as unknown as SqlValue[][],
        };
      } catch (e) {
        throw databaseError("PostgreSQL", e, secrets);
      } finally {
        deadline?.removeEventListener("abort", onDeadline);
      }
    },
    async close() {
      try {
        await (await sql).end({ timeout: 1 });
      } catch { /* already closed, or never loaded */ }
      sockets.destroyAll();
    },
    async reconnect() {
      const old = sql;
      sql = connect();
      sql.catch(() => {});
      try {
        await (await old).end({ timeout: 5 });
      } catch { /* already closed, or never loaded */ }
    },
  };
}

/**
 * Makes the cvm-pgsql backend from the environment.
 *
 * @param env libpq's variables and `CVM_PGSQL_QUERY`, `_POSTQ`, `_PWCMP`.
 * @param context Whether to keep connections (server modes).
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import { createPgsqlBackend } from "./pgsql.ts";
 * const backend = createPgsqlBackend({ PGHOST: "127.0.0.1", PGDATABASE: "test" },
 *   { persistent: false });
 * await backend.close?.();
 * ```
 */
export function createPgsqlBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
): Backend<SqlAccount> {
  const settings = readSqlSettings(PGSQL_SPEC, env);
  const driver = createPgDriver(
    pgConnectionSettings(env),
    context.persistent,
    parseSqlConnections(env, PGSQL_POOL_SIZE),
  );
  return createSqlBackend(settings, driver, env);
}
