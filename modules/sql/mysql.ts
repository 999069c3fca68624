/**
 * cvm-mysql: accounts from MySQL or MariaDB through the `mysql2` client.
 * Connection settings are `$CVM_MYSQL_HOST`, `_PORT`, `_SOCKET`, `_USER`,
 * `_PASS`, `_DB`, over an option file (`$CVM_MYSQL_DEFAULT_FILE`, and the
 * group `$CVM_MYSQL_DEFAULT_GROUP`) read the way MariaDB's client library
 * reads it; the query, post-query and comparison are `$CVM_MYSQL_QUERY`,
 * `_POSTQ`, `_PWCMP`. Server modes keep a small pool of connections with
 * the statements prepared on each; a connection that fails is dropped and
 * the next request opens a new one.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type mysql from "mysql2";
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
  type SqlResult,
  type SqlValue,
} from "./framework.ts";

/** The framework's view of this module: its variable prefix and placeholders. */
export const MYSQL_SPEC: SqlModuleSpec = {
  prefix: "CVM_MYSQL",
  style: "question",
  postQuery: true,
};

/**
 * Connections kept open in server modes (`$CVM_SQL_CONNECTIONS` sets
 * another number): mysql2 runs one statement at a time on a connection,
 * and 8 served 16 clients about a quarter faster than 4 here (2 cores).
 */
export const MYSQL_POOL_SIZE = 8;

/** The server's socket when none is configured (Debian's MariaDB). */
export const DEFAULT_MYSQL_SOCKET = "/run/mysqld/mysqld.sock";

/** The option groups MariaDB's client library always reads. */
const CLIENT_GROUPS = ["client", "client-server", "client-mariadb"];

/** Options from an option file: name → value, later lines winning. */
export type MysqlOptions = Record<string, string>;

/**
 * Parses option-file text as MariaDB's client library does: `[group]`
 * headers (exact, case-sensitive names), `name=value` or `name` lines in the
 * wanted groups, `#` and `;` comment lines, one leading quote and a
 * matching trailing quote removed from a value, no comments after a value;
 * a later setting replaces an earlier one. `!include` and `!includedir`
 * lines are handed to `include`.
 *
 * @param text The file's contents.
 * @param groups The groups to read.
 * @param into Where to store the options (updated in place).
 * @param include Called with ("include" | "includedir", path) for those lines.
 * @returns `into`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOptionFile } from "./mysql.ts";
 * assert.equal(parseOptionFile("[client]\nhost = \"db1\"\n[other]\nhost=x\n", ["client"]).host, "db1");
 * ```
 */
export function parseOptionFile(
  text: string,
  groups: readonly string[],
  into: MysqlOptions = {},
  include?: (kind: "include" | "includedir", path: string) => void,
): MysqlOptions {
  let reading = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("!")) {
      const match = /^!(includedir|include)\s+(.+)$/.exec(line);
      if (match && include) {
        include(match[1] as "include" | "includedir", match[2].trim());
      }
      continue;
    }
    if (line.startsWith("[")) {
      const close = line.indexOf("]");
      reading = close > 0 && groups.includes(line.slice(1, close));
      continue;
    }
    if (!reading) continue;
    const eq = line.indexOf("=");
    const name = (eq < 0 ? line : line.slice(0, eq)).trim().replaceAll(
      "_",
      "-",
    );
    if (eq < 0) continue; // a flag: none of the settings used here
    let value = line.slice(eq + 1).trim();
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      value = value.slice(1);
      if (value.endsWith(quote)) value = value.slice(0, -1);
    }
    into[name] = value;
  }
  return into;
}

/**
 * Reads option files in order (missing or unreadable ones are skipped, as
 * the client library does), following `!include` and `!includedir` (files
 * ending in `.cnf`, in name order).
 *
 * @param paths The files.
 * @param groups The groups to read.
 * @returns The options.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOptionFiles } from "./mysql.ts";
 * assert.deepEqual(readOptionFiles(["/nonexistent.cnf"], ["client"]), {});
 * ```
 */
export function readOptionFiles(
  paths: readonly string[],
  groups: readonly string[],
): MysqlOptions {
  const options: MysqlOptions = {};
  const read = (path: string, depth: number) => {
    if (depth > 10) return;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return;
    }
    parseOptionFile(text, groups, options, (kind, target) => {
      if (kind === "include") return read(target, depth + 1);
      let names: string[];
      try {
        names = readdirSync(target).filter((n) => n.endsWith(".cnf")).sort();
      } catch {
        return;
      }
      for (const name of names) read(join(target, name), depth + 1);
    });
  };
  for (const path of paths) read(path, 0);
  return options;
}

/** How to reach the server. */
export interface MysqlConnectionSettings {
  /** The Unix socket, when connecting locally. */
  socketPath?: string;
  /** The host, when connecting over TCP. */
  host?: string;
  /** The TCP port. */
  port?: number;
  /** The user to log in as. */
  user: string;
  /** The password, when one is set. */
  password?: string;
  /** The database. */
  database: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "";
  }
}

/**
 * Works out the connection from `$CVM_MYSQL_*` and the option file. The
 * option file is read when `$CVM_MYSQL_DEFAULT_FILE` or
 * `$CVM_MYSQL_DEFAULT_GROUP` is set: the named file, or the standard ones
 * (`/etc/my.cnf`, `/etc/mysql/my.cnf`, `~/.my.cnf`), groups `client`,
 * `client-server`, `client-mariadb` and the named group. A variable that is
 * set wins over the file. No host, or `localhost`, means the Unix socket.
 *
 * @param env The environment.
 * @returns The settings.
 * @throws {CvmError} CONFIG when no database is named or a port is not a number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mysqlConnectionSettings } from "./mysql.ts";
 * assert.equal(mysqlConnectionSettings({ CVM_MYSQL_HOST: "127.0.0.1", CVM_MYSQL_DB: "mail" }).port, 3306);
 * ```
 */
export function mysqlConnectionSettings(
  env: Record<string, string | undefined>,
): MysqlConnectionSettings {
  const file = nonEmpty(env.CVM_MYSQL_DEFAULT_FILE);
  const group = nonEmpty(env.CVM_MYSQL_DEFAULT_GROUP);
  let options: MysqlOptions = {};
  if (file !== undefined || group !== undefined) {
    const home = env.HOME;
    const paths = file !== undefined ? [file] : [
      "/etc/my.cnf",
      "/etc/mysql/my.cnf",
      ...(env.MARIADB_HOME ? [join(env.MARIADB_HOME, "my.cnf")] : []),
      ...(home ? [join(home, ".my.cnf")] : []),
    ];
    const groups = group === undefined
      ? CLIENT_GROUPS
      : [...CLIENT_GROUPS, group];
    options = readOptionFiles(paths, groups);
  }
  const database = nonEmpty(env.CVM_MYSQL_DB) ?? nonEmpty(options.database);
  if (database === undefined) {
    throw new CvmError(
      ErrorCode.CONFIG,
      "$CVM_MYSQL_DB is not set (nor database in the option file)",
    );
  }
  const portText = nonEmpty(env.CVM_MYSQL_PORT);
  let port = 3306;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new CvmError(ErrorCode.CONFIG, "$CVM_MYSQL_PORT is not a port");
    }
    port = Number(portText);
  } else {
    // The client library reads the file's port with atoi(): leading digits.
    const leading = /^[0-9]{1,5}/.exec(options.port ?? "");
    const n = leading ? Number(leading[0]) : 0;
    if (n > 0 && n <= 65535) port = n;
  }
  const host = nonEmpty(env.CVM_MYSQL_HOST) ?? nonEmpty(options.host);
  const user = nonEmpty(env.CVM_MYSQL_USER) ?? nonEmpty(options.user) ??
    osUser();
  const password = env.CVM_MYSQL_PASS ?? options.password;
  if (host === undefined || host === "localhost") {
    const socketPath = nonEmpty(env.CVM_MYSQL_SOCKET) ??
      nonEmpty(options.socket) ?? DEFAULT_MYSQL_SOCKET;
    return { socketPath, user, password, database };
  }
  return { host, port, user, password, database };
}

/** A value of a result row as text: numbers in decimal, bytes as UTF-8. */
function asText(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

/**
 * A driver running statements on a `mysql2` pool as server-side prepared
 * statements (cached per connection). A statement past its deadline
 * destroys every connection (a hung one, or one still connecting, cannot
 * be told apart from the pool's side); the pool opens new ones.
 *
 * @param settings Where the server is.
 * @param persistent Keep several connections (server modes) or just one.
 * @param connections How many connections server modes keep.
 * @returns The driver.
 * @example
 * ```ts
 * import { createMysqlDriver } from "./mysql.ts";
 * const driver = createMysqlDriver({ host: "127.0.0.1", port: 3306, user: "root",
 *   database: "test" }, false);
 * await driver.close();
 * ```
 */
export function createMysqlDriver(
  settings: MysqlConnectionSettings,
  persistent: boolean,
  connections: number = MYSQL_POOL_SIZE,
): SqlDriver {
  const sockets = new SqlSockets();
  const options: mysql.PoolOptions = {
    ...settings,
    // Our own sockets, to destroy when a statement outlives its deadline.
    stream: () =>
      sockets.open(
        settings.socketPath !== undefined
          ? { path: settings.socketPath }
          : { host: settings.host ?? "localhost", port: settings.port ?? 3306 },
      ),
    connectionLimit: persistent ? connections : 1,
    maxIdle: persistent ? connections : 1,
    idleTimeout: 0x7fffffff,
    charset: "utf8mb4",
    rowsAsArray: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    connectTimeout: 10_000,
    enableKeepAlive: true,
  };
  // The driver is loaded here, not by this file's imports: a program that
  // never connects to MySQL (cvm-sqlite, cvm-pgsql) never resolves it.
  const loading = import("mysql2").then((m) => m.default);
  const connect = async () => {
    const pool = (await loading).createPool(options);
    // A kept connection that the server closes must not end the process;
    // the pool drops it and opens a new one for the next request.
    pool.on("connection", (conn) => conn.on("error", () => {}));
    return pool;
  };
  let pool = connect();
  pool.catch(() => {}); // a driver that cannot load fails each statement (IO)
  const secrets = [settings.password];
  const execute = async (sql: string, values: string[]) => {
    const ready = await pool;
    return await new Promise<SqlResult>((resolve, reject) => {
      ready.execute(sql, values, (error, rows, fields) => {
        if (error) return reject(error);
        const list = Array.isArray(rows) ? rows as unknown[][] : [];
        resolve({
          columns: Array.isArray(fields) ? fields.length : 0,
          rows: list.map((row) => row.map(asText)),
        });
      });
    });
  };
  return {
    async run(statement, values, deadline) {
      const onDeadline = () => sockets.destroyAll();
      deadline?.addEventListener("abort", onDeadline, { once: true });
      try {
        return await execute(statement.text, [...values]);
      } catch (e) {
        throw databaseError("MySQL", e, secrets);
      } finally {
        deadline?.removeEventListener("abort", onDeadline);
      }
    },
    async close() {
      try {
        const ready = await pool;
        await new Promise<void>((resolve) => ready.end(() => resolve()));
      } catch { /* never loaded */ }
      sockets.destroyAll();
    },
    async reconnect() {
      const old = pool;
      pool = connect();
      pool.catch(() => {});
      try {
        const ready = await old;
        await new Promise<void>((resolve) => ready.end(() => resolve()));
      } catch { /* never loaded */ }
    },
  };
}

/**
 * Makes the cvm-mysql backend from the environment.
 *
 * @param env `CVM_MYSQL_*` connection settings, `_QUERY`, `_POSTQ`, `_PWCMP`.
 * @param context Whether to keep connections (server modes).
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import { createMysqlBackend } from "./mysql.ts";
 * const backend = createMysqlBackend({ CVM_MYSQL_HOST: "127.0.0.1",
 *   CVM_MYSQL_USER: "root", CVM_MYSQL_DB: "test" }, { persistent: false });
 * await backend.close?.();
 * ```
 */
export function createMysqlBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
): Backend<SqlAccount> {
  const settings = readSqlSettings(MYSQL_SPEC, env);
  const driver = createMysqlDriver(
    mysqlConnectionSettings(env),
    context.persistent,
    parseSqlConnections(env, MYSQL_POOL_SIZE),
  );
  return createSqlBackend(settings, driver, env);
}
