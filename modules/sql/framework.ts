/**
 * The SQL framework shared by cvm-sqlite, cvm-pgsql and cvm-mysql: the query
 * template (`$NAME`, `${NAME}`, `$$`) turned into a parameterised statement,
 * the twelve result columns checked and turned into facts, the password
 * comparison and the optional post-query. A database module only supplies a
 * {@linkcode SqlDriver} that runs a statement with bound values.
 *
 * Substituted values are always bound parameters, never spliced into the
 * SQL text, so an account name cannot change what a query does.
 *
 * @module
 */

import { asciiLower, CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { Facts } from "../../protocol/mod.ts";
import { writeStderr } from "../../program.ts";
import {
  type Backend,
  DeadlineQueue,
  type ModuleRequest,
} from "../runtime/mod.ts";
import { type Rehasher, rehasherFromEnv } from "../passwords/mod.ts";
import {
  checkPassword,
  createPasswordDecoy,
  type PasswordComparison,
  type PasswordScheme,
  readPasswordComparison,
} from "../passwords/mod.ts";

/** The query used when `$CVM_..._QUERY` is not set (the reference manual's). */
export const DEFAULT_QUERY =
  "SELECT password, username, userid, groupid, directory, realname, shell, " +
  "groupname, domain, sys_username, sys_directory FROM accounts " +
  "WHERE username=$account AND domain=$domain";

/**
 * How a dialect writes placeholders: `dollar` is PostgreSQL's `$1, $2, …`,
 * `question` is MySQL's and SQLite's positional `?`.
 */
export type PlaceholderStyle = "dollar" | "question";

/** A query template compiled to SQL text with placeholders. */
export interface SqlStatement {
  /** Which setting it came from, e.g. "query" or "postq" (a cache key). */
  key: string;
  /** The SQL text with one placeholder per substitution. */
  text: string;
  /** The variable each placeholder stands for, in placeholder order. */
  names: readonly string[];
}

/** A column value as text, or null for SQL NULL. */
export type SqlValue = string | null;

/** What running a statement returned. */
export interface SqlResult {
  /** How many columns the statement returns (known even with no row). */
  columns: number;
  /** The rows, each value as text or null. */
  rows: SqlValue[][];
}

/**
 * Runs statements against one database. Implementations keep connections
 * and prepared statements across calls when asked to (server modes) and
 * throw `CvmError(IO, …)` when the database cannot be reached or fails.
 */
export interface SqlDriver {
  /**
   * Runs a statement with its values bound; throws `CvmError` on failure.
   * When `deadline` aborts, the statement has taken too long (the answer
   * is already IO): drop the connection it is on (or every one, when that
   * cannot be told), sockets and all, so the next statement connects anew.
   */
  run(
    statement: SqlStatement,
    values: readonly string[],
    deadline?: AbortSignal,
  ): Promise<SqlResult>;
  /** Closes every connection. */
  close(): Promise<void>;
  /**
   * Drops the connections (statements running on them may finish) and
   * connects afresh for the next statement; the swap happens before the
   * first await.
   */
  reconnect?(): Promise<void>;
}

/** The variables every template may use, filled from the request. */
const REQUEST_VARIABLES = new Set(["account", "domain"]);

const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * Compiles a query template: `$NAME` and `${NAME}` become placeholders
 * bound to the variable's value, `$$` is a dollar sign, and a `$` followed
 * by anything else stays as it is. Names in `$NAME` are letters, digits and
 * underscores; `${NAME}` takes anything up to the closing brace.
 *
 * @param variable The setting's name, for errors (e.g. "CVM_PGSQL_QUERY").
 * @param key A short key naming the statement (e.g. "query").
 * @param template The template text.
 * @param style The dialect's placeholder style.
 * @returns The statement.
 * @throws {CvmError} CONFIG naming `variable` for an empty template, an
 *   unterminated or empty `${}`, or (PostgreSQL) a `$$` before a digit,
 *   which would read as a placeholder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate } from "./framework.ts";
 * const s = compileTemplate("CVM_PGSQL_QUERY", "query",
 *   "SELECT * FROM t WHERE u=$account AND d=${domain}", "dollar");
 * assert.equal(s.text, "SELECT * FROM t WHERE u=$1 AND d=$2");
 * assert.deepEqual(s.names, ["account", "domain"]);
 * ```
 */
export function compileTemplate(
  variable: string,
  key: string,
  template: string,
  style: PlaceholderStyle,
): SqlStatement {
  if (template.trim() === "") {
    throw new CvmError(ErrorCode.CONFIG, `$${variable} is empty`);
  }
  let text = "";
  const names: string[] = [];
  let at = 0;
  let placed = false;
  const placeholder = (name: string) => {
    names.push(name);
    text += style === "dollar" ? `$${names.length}` : "?";
    placed = true;
  };
  while (at < template.length) {
    const dollar = template.indexOf("$", at);
    if (dollar < 0) {
      text += template.slice(at);
      break;
    }
    text += template.slice(at, dollar);
    placed = false;
    const next = template[dollar + 1];
    if (next === "$") {
      if (style === "dollar" && /[0-9]/.test(template[dollar + 2] ?? "")) {
        throw new CvmError(
          ErrorCode.CONFIG,
          `$${variable}: "$$" before a digit would read as a placeholder`,
        );
      }
      text += "$";
      at = dollar + 2;
    } else if (next === "{") {
      const close = template.indexOf("}", dollar + 2);
      if (close < 0) {
        throw new CvmError(ErrorCode.CONFIG, `$${variable}: unterminated \${`);
      }
      const name = template.slice(dollar + 2, close);
      if (name === "") {
        throw new CvmError(ErrorCode.CONFIG, `$${variable}: empty \${}`);
      }
      placeholder(name);
      at = close + 1;
    } else if (next !== undefined && NAME_CHAR.test(next)) {
      let end = dollar + 1;
      while (end < template.length && NAME_CHAR.test(template[end])) end++;
      placeholder(template.slice(dollar + 1, end));
      at = end;
    } else {
      text += "$";
      at = dollar + 1;
    }
    // "$1" then a literal digit would read as "$12": keep them apart.
    if (placed && style === "dollar" && /[0-9]/.test(template[at] ?? "")) {
      text += " ";
    }
  }
  return { key, text, names };
}

/**
 * The values to bind for a statement: `account` and `domain` from the
 * request, a name of `extra` (the rehash statement's `hash`) from it, every
 * other name from the environment.
 *
 * @param statement The compiled statement.
 * @param request The account and domain.
 * @param env The environment the module was started with.
 * @param extra Values of the statement's own variables.
 * @returns One value per placeholder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindValues, compileTemplate } from "./framework.ts";
 * const s = compileTemplate("Q", "q", "SELECT $account, $HOME", "question");
 * assert.deepEqual(bindValues(s, { account: "bob", domain: "" }, { HOME: "/root" }), ["bob", "/root"]);
 * ```
 */
export function bindValues(
  statement: SqlStatement,
  request: Pick<ModuleRequest, "account" | "domain">,
  env: Record<string, string | undefined>,
  extra: Readonly<Record<string, string>> = {},
): string[] {
  return statement.names.map((name) =>
    name === "account"
      ? request.account
      : name === "domain"
      ? request.domain
      : Object.hasOwn(extra, name)
      ? extra[name]
      : env[name] ?? ""
  );
}

/** Throws CONFIG naming the setting when it uses a variable that is not set. */
function checkVariables(
  variable: string,
  statement: SqlStatement,
  env: Record<string, string | undefined>,
  own: readonly string[] = [],
): void {
  for (const name of statement.names) {
    if (
      !REQUEST_VARIABLES.has(name) && !own.includes(name) &&
      env[name] === undefined
    ) {
      throw new CvmError(
        ErrorCode.CONFIG,
        `$${variable} uses $${name}, which is not set`,
      );
    }
  }
}

/** The names of the twelve result columns, for messages. */
const COLUMN_NAMES = [
  "password",
  "account name",
  "user ID",
  "group ID",
  "directory",
  "real name",
  "shell",
  "group name",
  "domain",
  "system user name",
  "system directory",
  "mailbox",
] as const;

/** The number of columns every query must return: password … directory. */
export const REQUIRED_COLUMNS = 5;

function badRow(message: string): CvmError {
  return new CvmError(ErrorCode.BAD_MODDATA, message);
}

function required(row: readonly SqlValue[], index: number): string {
  const value = row[index];
  if (value === null || value === undefined || value === "") {
    throw badRow(
      `column ${index + 1} (${COLUMN_NAMES[index]}) is NULL or empty`,
    );
  }
  return value;
}

function decimalId(row: readonly SqlValue[], index: number): number {
  const text = required(row, index);
  const n = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(n <= 0xffffffff)) {
    throw badRow(
      `column ${index + 1} (${COLUMN_NAMES[index]}) is not a decimal number`,
    );
  }
  return n;
}

function optional(row: readonly SqlValue[], index: number): string | undefined {
  const value = row[index];
  return value === null || value === undefined ? undefined : value;
}

/**
 * Turns a result row into facts. Columns 2–5 (account name, user ID, group
 * ID, directory) must be non-empty and the IDs decimal numbers of at most 32
 * bits; optional columns 6–12 that are NULL or missing are left out, empty
 * ones are sent empty. Extra columns are ignored.
 *
 * @param row The row, password first.
 * @returns The facts.
 * @throws {CvmError} BAD_MODDATA naming the column that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowFacts } from "./framework.ts";
 * assert.equal(rowFacts(["pw", "bob", "1000", "100", "/home/bob", null, ""]).shell, "");
 * ```
 */
export function rowFacts(row: readonly SqlValue[]): Facts {
  const facts: Facts = {
    username: required(row, 1),
    userid: decimalId(row, 2),
    groupid: decimalId(row, 3),
    directory: required(row, 4),
  };
  const realname = optional(row, 5);
  const shell = optional(row, 6);
  const groupname = optional(row, 7);
  const domain = optional(row, 8);
  const sysUsername = optional(row, 9);
  const sysDirectory = optional(row, 10);
  const mailbox = optional(row, 11);
  if (realname !== undefined) facts.realname = realname;
  if (shell !== undefined) facts.shell = shell;
  if (groupname !== undefined) facts.groupname = groupname;
  if (domain !== undefined) facts.domain = domain;
  if (sysUsername !== undefined) facts.sysUsername = sysUsername;
  if (sysDirectory !== undefined) facts.sysDirectory = sysDirectory;
  if (mailbox !== undefined) facts.mailbox = mailbox;
  return facts;
}

/** How long a statement may take when `$CVM_SQL_TIMEOUT` is not set, in ms. */
export const DEFAULT_SQL_TIMEOUT_MS = 5000;

/**
 * Reads `$CVM_SQL_TIMEOUT`: the seconds (fractions allowed) a statement,
 * connecting included, may take before the answer is IO.
 *
 * @param env The environment.
 * @returns The deadline in milliseconds; {@linkcode DEFAULT_SQL_TIMEOUT_MS} when unset or empty.
 * @throws {CvmError} CONFIG naming the variable for anything but a number
 *   of seconds from 0.001 to 86400.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSqlTimeout } from "./framework.ts";
 * assert.equal(parseSqlTimeout({ CVM_SQL_TIMEOUT: "2.5" }), 2500);
 * ```
 */
export function parseSqlTimeout(
  env: Record<string, string | undefined>,
): number {
  const text = env.CVM_SQL_TIMEOUT;
  if (text === undefined || text === "") return DEFAULT_SQL_TIMEOUT_MS;
  const ms = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(text)
    ? Number(text) * 1000
    : NaN;
  if (!(ms >= 1 && ms <= 86_400_000)) {
    throw new CvmError(
      ErrorCode.CONFIG,
      "$CVM_SQL_TIMEOUT is not a number of seconds from 0.001 to 86400",
    );
  }
  return ms;
}

/**
 * Runs a statement with a deadline. Past it the driver is told (the signal
 * aborts) so that it drops its connection, and the answer is IO: a hung
 * database must not hang the module.
 *
 * @param driver The driver.
 * @param statement The statement.
 * @param values Its bound values.
 * @param timeoutMs The deadline, in milliseconds.
 * @param deadlines A queue of deadlines of `timeoutMs` to set it on (a
 *   server's: one timer for every statement), instead of a timer of its own.
 * @returns What the statement returned.
 * @throws {CvmError} IO past the deadline, or what the driver threw.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate, runWithDeadline } from "./framework.ts";
 * const statement = compileTemplate("Q", "q", "SELECT 1", "question");
 * const never = { run: () => new Promise<never>(() => {}), close: () => Promise.resolve() };
 * assert.equal(await runWithDeadline(never, statement, [], 10).catch((e) => e.code), 4);
 * ```
 */
export async function runWithDeadline(
  driver: SqlDriver,
  statement: SqlStatement,
  values: readonly string[],
  timeoutMs: number,
  deadlines?: DeadlineQueue,
): Promise<SqlResult> {
  const deadline = new AbortController();
  let expire: () => void = () => {};
  const expired = new Promise<never>((_, reject) => {
    expire = () => {
      deadline.abort();
      reject(
        new CvmError(
          ErrorCode.IO,
          `no answer within ${timeoutMs / 1000} s ($CVM_SQL_TIMEOUT)`,
        ),
      );
    };
  });
  // A server's statements share one timer (their deadlines come due in
  // the order they were set); a lone statement has its own.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const due = deadlines?.set(expire);
  if (due === undefined) timer = setTimeout(expire, timeoutMs);
  try {
    return await Promise.race([
      driver.run(statement, values, deadline.signal),
      expired,
    ]);
  } finally {
    due?.done();
    clearTimeout(timer);
  }
}

/** The most connections `$CVM_SQL_CONNECTIONS` may ask for. */
export const MAX_SQL_CONNECTIONS = 64;

/**
 * Reads `$CVM_SQL_CONNECTIONS`: how many database connections a server
 * keeps, over which concurrent requests are spread.
 *
 * @param env The environment.
 * @param fallback The driver's own number, when the variable is unset or empty.
 * @returns The number of connections.
 * @throws {CvmError} CONFIG naming the variable for anything but a number
 *   from 1 to {@linkcode MAX_SQL_CONNECTIONS}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSqlConnections } from "./framework.ts";
 * assert.equal(parseSqlConnections({ CVM_SQL_CONNECTIONS: "8" }, 4), 8);
 * assert.equal(parseSqlConnections({}, 4), 4);
 * ```
 */
export function parseSqlConnections(
  env: Record<string, string | undefined>,
  fallback: number,
): number {
  const text = env.CVM_SQL_CONNECTIONS;
  if (text === undefined || text === "") return fallback;
  const n = /^[0-9]{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_SQL_CONNECTIONS)) {
    throw new CvmError(
      ErrorCode.CONFIG,
      `$CVM_SQL_CONNECTIONS is not a number from 1 to ${MAX_SQL_CONNECTIONS}`,
    );
  }
  return n;
}

/** What an SQL module is called and how its dialect writes placeholders. */
export interface SqlModuleSpec {
  /** The variable prefix, e.g. "CVM_PGSQL" (for `_QUERY`, `_POSTQ`, `_PWCMP`, `_REHASHQ`). */
  prefix: string;
  /** The dialect's placeholder style. */
  style: PlaceholderStyle;
  /** Whether the module has a post-query setting (`<prefix>_POSTQ`). */
  postQuery: boolean;
}

/** The parsed settings of an SQL module. */
export interface SqlSettings {
  /** The account query. */
  query: SqlStatement;
  /** The post-query, when one is set. */
  postQuery?: SqlStatement;
  /** How stored passwords are compared: plain, crypt or scheme. */
  scheme: PasswordScheme;
  /** The comparison, with scheme mode's default scheme. */
  comparison: PasswordComparison;
  /** The query's setting name, for errors. */
  queryVariable: string;
  /** The program's name, for the one stderr line of a configuration error. */
  program: string;
  /** How long a statement may take (`$CVM_SQL_TIMEOUT`), in milliseconds. */
  timeoutMs: number;
  /** Upgrade on login (`$CVM_REHASH`), when set: its statement and policy. */
  rehash?: { statement: SqlStatement; rehasher: Rehasher };
}

/**
 * Reads an SQL module's settings from the environment: the query (the
 * default when unset), the post-query, the password comparison and the
 * deadline of a statement (`$CVM_SQL_TIMEOUT`), and with `$CVM_REHASH` the
 * statement that stores an upgraded hash (`<prefix>_REHASHQ`, which may use
 * `$hash` besides `$account` and `$domain`). Every other variable a
 * template uses must be set.
 *
 * @param spec The module's prefix and dialect.
 * @param env The environment.
 * @returns The settings.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSqlSettings } from "./framework.ts";
 * const s = readSqlSettings(
 *   { prefix: "CVM_MYSQL", style: "question", postQuery: true }, {});
 * assert.deepEqual(s.query.names, ["account", "domain"]);
 * ```
 */
export function readSqlSettings(
  spec: SqlModuleSpec,
  env: Record<string, string | undefined>,
): SqlSettings {
  const queryVariable = `${spec.prefix}_QUERY`;
  const query = compileTemplate(
    queryVariable,
    "query",
    env[queryVariable] ?? DEFAULT_QUERY,
    spec.style,
  );
  checkVariables(queryVariable, query, env);
  let postQuery: SqlStatement | undefined;
  const postVariable = `${spec.prefix}_POSTQ`;
  const postText = spec.postQuery ? env[postVariable] : undefined;
  if (postText !== undefined && postText !== "") {
    postQuery = compileTemplate(postVariable, "postq", postText, spec.style);
    checkVariables(postVariable, postQuery, env);
  }
  const comparison = readPasswordComparison(`${spec.prefix}_PWCMP`, env);
  const program = asciiLower(spec.prefix).replaceAll("_", "-");
  const timeoutMs = parseSqlTimeout(env);
  const rehash = readRehash(spec, env, comparison.mode, program);
  return {
    query,
    postQuery,
    scheme: comparison.mode,
    comparison,
    queryVariable,
    program,
    timeoutMs,
    rehash,
  };
}

/** `$CVM_REHASH` and the `<prefix>_REHASHQ` it needs; undefined when unset. */
function readRehash(
  spec: SqlModuleSpec,
  env: Record<string, string | undefined>,
  scheme: PasswordScheme,
  program: string,
): SqlSettings["rehash"] {
  const rehasher = rehasherFromEnv(
    program,
    env,
    scheme,
    `${spec.prefix}_PWCMP`,
  );
  if (rehasher === undefined) return undefined;
  const variable = `${spec.prefix}_REHASHQ`;
  const text = env[variable];
  if (text === undefined || text === "") {
    throw new CvmError(
      ErrorCode.CONFIG,
      `$CVM_REHASH needs $${variable}, the statement storing $hash`,
    );
  }
  const statement = compileTemplate(variable, "rehashq", text, spec.style);
  checkVariables(variable, statement, env, ["hash"]);
  return { statement, rehasher };
}

/** What the account query found: the stored password and the row's facts. */
export interface SqlAccount {
  /** The stored password (column 1); null when NULL. */
  password: SqlValue;
  /** The facts, or why the row cannot give any (reported after the password check). */
  facts: Facts | CvmError;
}

/**
 * Makes a module backend from an SQL driver: the account query (no row, or
 * more than one, is unknown: PERMFAIL; an account or domain holding a NUL,
 * or bytes that are not UTF-8, is unknown without a query), the password check, the row checks
 * (after the password, as the reference does), then the post-query, whose
 * failure is a temporary error. Every statement has the settings' deadline. In lookup mode (`$CVM_LOOKUP_SECRET` set)
 * the post-query runs after the lookup.
 *
 * @param settings The parsed settings.
 * @param driver Runs statements.
 * @param env The environment (values of template variables, lookup mode).
 * @returns The backend.
 * @example
 * ```ts
 * import { createSqlBackend, readSqlSettings } from "./framework.ts";
 * const spec = { prefix: "CVM_X", style: "question", postQuery: false } as const;
 * const backend = createSqlBackend(readSqlSettings(spec, {}), {
 *   run: () => Promise.resolve({ columns: 5, rows: [] }),
 *   close: () => Promise.resolve(),
 * }, {});
 * ```
 */
export function createSqlBackend(
  settings: SqlSettings,
  driver: SqlDriver,
  env: Record<string, string | undefined>,
): Backend<SqlAccount> {
  const lookupMode = env.CVM_LOOKUP_SECRET !== undefined;
  const deadlines = new DeadlineQueue(settings.timeoutMs);
  let reported = false;
  // No way to sample a table: the first hash a check meets (in scheme
  // mode, the scheme met most), until then (and in command mode) the
  // library's default scheme.
  const decoy = createPasswordDecoy(settings.comparison);
  const run = (
    statement: SqlStatement,
    request: ModuleRequest,
    extra?: Record<string, string>,
  ) =>
    runWithDeadline(
      driver,
      statement,
      bindValues(statement, request, env, extra),
      settings.timeoutMs,
      deadlines,
    );
  const postQuery = async (request: ModuleRequest) => {
    if (settings.postQuery === undefined) return;
    await run(settings.postQuery, request);
  };
  return {
    async lookup(request) {
      // No stored name holds a NUL, and PostgreSQL refuses one as a bound
      // value (IO, which a chain reads as "try later"): reject it unasked.
      if (request.account.includes("\0") || request.domain.includes("\0")) {
        return undefined;
      }
      // Nor can bytes that are not UTF-8 be bound as text as they are: the
      // driver would send U+FFFD for each, and jos\xe9 and jos\xff would
      // both find the row of jos\uFFFD.
      if (!request.account.isWellFormed() || !request.domain.isWellFormed()) {
        return undefined;
      }
      const result = await run(settings.query, request);
      if (result.columns < REQUIRED_COLUMNS) {
        const error = new CvmError(
          ErrorCode.CONFIG,
          `$${settings.queryVariable} returns ${result.columns} columns; ` +
            `at least ${REQUIRED_COLUMNS} are needed`,
        );
        // Found only when the query first runs: say so once, for the admin.
        if (!reported) writeStderr(`${settings.program}: ${error.message}\n`);
        reported = true;
        throw error;
      }
      if (result.rows.length !== 1) return undefined;
      const row = result.rows[0];
      let facts: Facts | CvmError;
      try {
        facts = rowFacts(row);
      } catch (e) {
        facts = e as CvmError;
      }
      if (lookupMode) {
        if (facts instanceof CvmError) throw facts;
        await postQuery(request);
      }
      return { password: row[0] ?? null, facts };
    },
    async authenticate(account, request) {
      // A NULL stored password is empty, and never matches.
      const stored = account.password ?? "";
      const matched = await checkPassword(
        settings.comparison,
        request,
        stored,
        decoy,
      );
      if (!matched || stored === "") return false;
      if (account.facts instanceof CvmError) throw account.facts;
      await postQuery(request);
      const rehash = settings.rehash;
      if (rehash && request.password !== undefined) {
        await rehash.rehasher.afterLogin(
          stored,
          request.password,
          async (hash) => {
            await run(rehash.statement, request, { hash });
          },
        );
      }
      return true;
    },
    async decoy(request) {
      await decoy?.reject(request.password);
    },
    results(account) {
      if (account.facts instanceof CvmError) throw account.facts;
      return account.facts;
    },
    close: () => {
      deadlines.close();
      return driver.close();
    },
    reload: () => driver.reconnect?.() ?? Promise.resolve(),
  };
}

/**
 * A `CvmError(IO)` for a database failure, with any secret removed from the
 * driver's message.
 *
 * @param what Which database, e.g. "PostgreSQL".
 * @param error What the driver threw.
 * @param secrets Strings that must not appear in the message (passwords).
 * @returns The error to throw.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { databaseError } from "./framework.ts";
 * assert.equal(databaseError("MySQL", new Error("bad pw hunter2"), ["hunter2"]).message, "MySQL: bad pw ***");
 * ```
 */
export function databaseError(
  what: string,
  error: unknown,
  secrets: readonly (string | undefined)[] = [],
): CvmError {
  if (error instanceof CvmError) return error;
  let message = error instanceof Error
    ? (error.message || (error as { code?: string }).code || error.name)
    : String(error);
  for (const secret of secrets) {
    if (secret) message = message.split(secret).join("***");
  }
  return new CvmError(ErrorCode.IO, `${what}: ${message}`);
}
