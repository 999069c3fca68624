/**
 * Helpers for the SQL module tests: whether PostgreSQL and MariaDB are up
 * (skip, or fail with CVM_TEST_REQUIRE_SERVICES=1), a schema or database of
 * one's own per test with an `accounts` table in the manual's layout, crypt
 * hashes from openssl, and module servers whose output is captured.
 *
 * @module
 */

import postgres from "postgres";
import mysql from "mysql2/promise";
import { DatabaseSync } from "node:sqlite";
import {
  ensureDist,
  REF,
  run,
  type RunResult,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";

/** Where the test PostgreSQL is. */
export const PG = {
  host: "127.0.0.1",
  port: 5432,
  user: "postgres",
  database: "test",
};

/** Where the test MariaDB is. */
export const MY = { host: "127.0.0.1", port: 3306, user: "root" };

/** The reference's programs. */
export { REF };

/** The query returning all twelve columns from `accounts`. */
export const QUERY12 =
  "SELECT password, username, userid, groupid, directory, realname, shell, " +
  "groupname, domain, sys_username, sys_directory, mailbox FROM accounts " +
  "WHERE username=$account AND domain=$domain";

/** A row of `accounts`; null is SQL NULL. */
export interface AccountRow {
  username: string;
  domain: string;
  password: string | null;
  userid: string | null;
  groupid: string | null;
  directory: string | null;
  realname?: string | null;
  shell?: string | null;
  groupname?: string | null;
  sys_username?: string | null;
  sys_directory?: string | null;
  mailbox?: string | null;
}

const COLUMNS = [
  "username",
  "domain",
  "password",
  "userid",
  "groupid",
  "directory",
  "realname",
  "shell",
  "groupname",
  "sys_username",
  "sys_directory",
  "mailbox",
] as const;

function rowValues(row: AccountRow): (string | null)[] {
  return COLUMNS.map((c) => row[c] ?? null);
}

/** Whether a TCP port on 127.0.0.1 accepts connections. */
export async function tcpUp(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a service is reachable; when it is not, logs a skip line or, with
 * CVM_TEST_REQUIRE_SERVICES=1, returns true anyway so the tests run and fail.
 */
export async function serviceAvailable(
  label: string,
  port: number,
): Promise<boolean> {
  if (await tcpUp(port)) return true;
  if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") {
    console.log(
      `${label} is not reachable at 127.0.0.1:${port}; CVM_TEST_REQUIRE_SERVICES=1, so its tests run and fail`,
    );
    return true;
  }
  console.log(
    `skip: ${label} is not reachable at 127.0.0.1:${port}; its tests are skipped`,
  );
  return false;
}

/** Whether a reference program is installed (skip or fail as above). */
export function referenceAvailable(name: string): boolean {
  try {
    Deno.statSync(`${REF}/${name}`);
    return true;
  } catch {
    if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") return true;
    console.log(`skip: ${REF}/${name} is not installed; its tests are skipped`);
    return false;
  }
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return `${prefix}_${Date.now().toString(36)}_${random}`;
}

/** A crypt(3) SHA-512 hash made by `openssl passwd -6`. */
export async function opensslCrypt(password: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["passwd", "-6", "-stdin"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = out.stdin.getWriter();
  await writer.write(new TextEncoder().encode(password + "\n"));
  await writer.close();
  const { stdout, success } = await out.output();
  if (!success) throw new Error("openssl passwd failed");
  return new TextDecoder().decode(stdout).trim();
}

/** A PostgreSQL schema of a test's own, holding `accounts`. */
export interface PgSchema {
  /** The schema's name. */
  name: string;
  /** Runs SQL (values bound) as the test user. */
  exec(sql: string, values?: unknown[]): Promise<unknown[][]>;
  /** The environment pointing a module at this schema (search_path). */
  env: Record<string, string>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * Creates a schema with an `accounts` table (all columns text) holding rows.
 *
 * @param rows The accounts.
 * @param port The port to point modules at (a proxy's), default 5432.
 */
export async function createPgSchema(
  rows: readonly AccountRow[],
  port = PG.port,
): Promise<PgSchema> {
  const name = uniqueName("cvm_t");
  const sql = postgres({
    host: PG.host,
    port: PG.port,
    username: PG.user,
    database: PG.database,
    max: 1,
    onnotice: () => {},
    connection: { options: `-c search_path=${name}` },
  });
  const exec = async (text: string, values: unknown[] = []) =>
    [...await sql.unsafe(text, values as string[]).values()].map((row) => [
      ...row,
    ]) as unknown[][];
  await exec(`CREATE SCHEMA ${name}`);
  await exec(
    `CREATE TABLE ${name}.accounts (${
      COLUMNS.map((c) => `${c} text`).join(", ")
    })`,
  );
  for (const row of rows) {
    await exec(
      `INSERT INTO ${name}.accounts VALUES (${
        COLUMNS.map((_, i) => `$${i + 1}`).join(", ")
      })`,
      rowValues(row),
    );
  }
  return {
    name,
    exec: (sql, values) => exec(sql, values),
    env: {
      PGHOST: PG.host,
      PGPORT: String(port),
      PGUSER: PG.user,
      PGDATABASE: PG.database,
      PGOPTIONS: `-c search_path=${name}`,
    },
    async drop() {
      try {
        await exec(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await sql.end();
      }
    },
  };
}

/**
 * Writes an SQLite file holding an `accounts` table (the twelve columns in
 * {@linkcode QUERY12}'s order, untyped) with the rows' password, username,
 * user and group IDs, directory and domain.
 *
 * @param path The file to create.
 * @param rows The accounts.
 */
export function writeSqliteAccounts(
  path: string,
  rows: readonly AccountRow[],
): void {
  const db = new DatabaseSync(path);
  db.exec(
    "CREATE TABLE accounts (password, username, userid, groupid, directory, realname, shell, groupname, domain, sys_username, sys_directory, mailbox)",
  );
  const insert = db.prepare(
    "INSERT INTO accounts (password, username, userid, groupid, directory, domain) VALUES (?, ?, ?, ?, ?, ?)",
  );
  for (const row of rows) {
    insert.run(
      row.password,
      row.username,
      row.userid,
      row.groupid,
      row.directory,
      row.domain,
    );
  }
  db.close();
}

/**
 * Builds `dist/`, runs `fn` with an SQLite file of the rows (see
 * {@linkcode writeSqliteAccounts}) in a fresh directory, then removes it.
 *
 * @param rows The accounts.
 * @param fn Gets the file's path and its directory.
 */
export async function withSqliteAccounts(
  rows: readonly AccountRow[],
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/accounts.db`;
    writeSqliteAccounts(path, rows);
    await fn(path, dir.path);
  } finally {
    dir.cleanup();
  }
}

/** A MariaDB database of a test's own, holding `accounts`. */
export interface MyDatabase {
  /** The database's name. */
  name: string;
  /** Runs SQL (values bound) in it. */
  exec(sql: string, values?: unknown[]): Promise<unknown[][]>;
  /** The environment pointing a module at this database. */
  env: Record<string, string>;
  /** Drops the database. */
  drop(): Promise<void>;
}

/**
 * Creates a database with an `accounts` table (utf8mb4 text columns) holding rows.
 *
 * @param rows The accounts.
 * @param port The port to point modules at (a proxy's), default 3306.
 */
export async function createMyDatabase(
  rows: readonly AccountRow[],
  port = MY.port,
): Promise<MyDatabase> {
  const name = uniqueName("cvm_t");
  const conn = await mysql.createConnection({
    ...MY,
    charset: "utf8mb4",
    rowsAsArray: true,
  });
  await conn.query(
    `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
  );
  await conn.query(`USE ${name}`);
  await conn.query(
    `CREATE TABLE accounts (${
      COLUMNS.map((c) => `${c} varchar(255)`).join(", ")
    })`,
  );
  for (const row of rows) {
    await conn.execute(
      `INSERT INTO accounts VALUES (${COLUMNS.map(() => "?").join(", ")})`,
      rowValues(row),
    );
  }
  const exec = async (sql: string, values: unknown[] = []) => {
    const [result] = await conn.query(sql, values);
    return Array.isArray(result) ? result as unknown[][] : [];
  };
  return {
    name,
    exec,
    env: {
      CVM_MYSQL_HOST: MY.host,
      CVM_MYSQL_PORT: String(port),
      CVM_MYSQL_USER: MY.user,
      CVM_MYSQL_DB: name,
    },
    async drop() {
      try {
        await conn.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await conn.end();
      }
    },
  };
}

/** A database (PostgreSQL schema or MariaDB database) of a test's own. */
export type TestDatabase = PgSchema | MyDatabase;

/** One of the database servers, as the tests of its module see it. */
export interface SqlServer {
  /** The module's name after `cvm-`. */
  module: "pgsql" | "mysql";
  /** The server's name, for test names and skip lines. */
  label: string;
  /** Its TCP port on 127.0.0.1. */
  port: number;
  /** The prefix of the module's own variables (`_QUERY`, `_PWCMP`, `_POSTQ`). */
  prefix: "CVM_PGSQL" | "CVM_MYSQL";
  /** The module's variables that say where and as whom to connect. */
  connection: { port: string; user: string; password: string; db: string };
  /** The SQL type of a text column. */
  textType: string;
  /** Makes a database of the test's own holding the rows. */
  create(rows: readonly AccountRow[]): Promise<TestDatabase>;
}

/** PostgreSQL and cvm-pgsql. */
export const POSTGRESQL: SqlServer = {
  module: "pgsql",
  label: "PostgreSQL",
  port: PG.port,
  prefix: "CVM_PGSQL",
  connection: {
    port: "PGPORT",
    user: "PGUSER",
    password: "PGPASSWORD",
    db: "PGDATABASE",
  },
  textType: "text",
  create: (rows) => createPgSchema(rows),
};

/** MariaDB and cvm-mysql. */
export const MARIADB: SqlServer = {
  module: "mysql",
  label: "MariaDB",
  port: MY.port,
  prefix: "CVM_MYSQL",
  connection: {
    port: "CVM_MYSQL_PORT",
    user: "CVM_MYSQL_USER",
    password: "CVM_MYSQL_PASS",
    db: "CVM_MYSQL_DB",
  },
  textType: "varchar(255)",
  create: (rows) => createMyDatabase(rows),
};

/** Whether a database server is up (see serviceAvailable: skip or fail). */
export function serverAvailable(server: SqlServer): Promise<boolean> {
  return serviceAvailable(server.label, server.port);
}

/**
 * Builds `dist/`, runs `fn` with a fresh database of the server holding the
 * rows, then drops it.
 */
export async function withDatabase(
  server: SqlServer,
  rows: readonly AccountRow[],
  fn: (db: TestDatabase) => Promise<void>,
): Promise<void> {
  await ensureDist();
  const db = await server.create(rows);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

/** The outcome of running a program. */
export type Outcome = Pick<RunResult, "code" | "stdout" | "stderr">;

/** PATH and HOME from the test's environment: all a module gets besides its own. */
function baseEnv(): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
  };
}

/**
 * Runs a program with exactly the given environment (plus PATH and HOME),
 * so nothing from the test's own environment leaks into a module.
 */
export async function runWith(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<Outcome> {
  const { code, stdout, stderr } = await run(cmd, args, {
    env: { ...baseEnv(), ...env },
    clearEnv: true,
  });
  return { code, stdout, stderr };
}

/**
 * Runs a module program in command mode on a version 1 request for
 * `account`/`password`, with exactly `env` (plus PATH, HOME): its exit
 * status and output. For the cases where the reference's module exits
 * before reading its input (a missing query, a database it cannot reach):
 * run under the reference's cvm-testclient, such an exit can leave the
 * client spinning, so these are compared module to module.
 */
export async function runModule(
  module: string,
  env: Record<string, string>,
  account = "bob",
  password = "secret",
): Promise<{ code: number; stdout: Uint8Array }> {
  const child = new Deno.Command(module, {
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const request = new TextEncoder().encode(`\x01${account}\0\0${password}\0\0`);
  const writer = child.stdin.getWriter();
  await writer.write(request).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  return { code: out.code, stdout: out.stdout };
}

/**
 * Polls every 25 ms until `check` is true, giving up (with an error) after
 * `tries` polls.
 */
export async function until(
  check: () => Promise<boolean>,
  tries = 200,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached");
}

/** A module server whose stdout (log) and stderr are captured. */
export type CapturedServer = Server;

/** Starts a server program with exactly `env` (plus PATH, HOME) and waits for `Starting.`. */
export function startCaptured(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<CapturedServer> {
  return startServer(cmd, args, { ...baseEnv(), ...env }, { clearEnv: true });
}
