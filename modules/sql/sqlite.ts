/**
 * cvm-sqlite: accounts from an SQLite database file (`$CVM_SQLITE_DB`)
 * through Deno's built-in `node:sqlite`; the query, post-query and
 * comparison are `$CVM_SQLITE_QUERY`, `$CVM_SQLITE_POSTQ`,
 * `$CVM_SQLITE_PWCMP`. Server modes keep the file open with the statements
 * prepared, and reopen it when the file is replaced.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import type { Backend } from "../runtime/mod.ts";
import type { BackendContext } from "../runtime/mod.ts";
import {
  createSqlBackend,
  databaseError,
  readSqlSettings,
  type SqlAccount,
  type SqlDriver,
  type SqlModuleSpec,
  type SqlValue,
} from "./framework.ts";

/** The framework's view of this module: its variable prefix and placeholders. */
export const SQLITE_SPEC: SqlModuleSpec = {
  prefix: "CVM_SQLITE",
  style: "question",
  postQuery: true,
};

/** How long a statement waits for another process's lock, in milliseconds. */
const BUSY_TIMEOUT_MS = 1000;

/** `StatementSync.setReturnArrays`, which Deno has and the bundled types lack. */
interface ArrayRows {
  setReturnArrays(enabled: boolean): void;
}

function asText(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

/**
 * A driver on one SQLite file. The file must exist (a missing one is a
 * temporary error, never silently created).
 *
 * It stays open, with its statements prepared, until closed; a file replaced
 * by another (a new inode) is reopened.
 *
 * @param path The database file.
 * @returns The driver.
 * @example
 * ```ts
 * import { createSqliteDriver } from "./sqlite.ts";
 * const driver = createSqliteDriver(":memory:");
 * await driver.close();
 * ```
 */
export function createSqliteDriver(path: string): SqlDriver {
  let open:
    | { db: DatabaseSync; id: string; statements: Map<string, StatementSync> }
    | undefined;
  const close = () => {
    try {
      open?.db.close();
    } catch { /* already closed */ }
    open = undefined;
  };
  const database = () => {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (e) {
      close();
      throw new CvmError(
        ErrorCode.IO,
        `cannot open $CVM_SQLITE_DB: ${(e as Error).name}`,
      );
    }
    const id = `${info.dev}:${info.ino}`;
    if (open?.id !== id) {
      close();
      const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
      open = { db, id, statements: new Map() };
    }
    return open;
  };
  return {
    run(statement, values) {
      try {
        const { db, statements } = database();
        let prepared = statements.get(statement.key);
        if (prepared === undefined) {
          prepared = db.prepare(statement.text);
          prepared.setReadBigInts(true);
          // Rows as arrays: duplicate column names must not collapse.
          (prepared as unknown as ArrayRows).setReturnArrays(true);
          statements.set(statement.key, prepared);
        }
        const columns = prepared.columns().length;
        const rows = prepared.all(...values) as unknown as unknown[][];
        return Promise.resolve({
          columns,
          rows: rows.map((row) => row.map(asText)),
        });
      } catch (e) {
        return Promise.reject(databaseError("SQLite", e));
      }
    },
    close() {
      close();
      return Promise.resolve();
    },
    reconnect() {
      close(); // the next statement opens the file again
      return Promise.resolve();
    },
  };
}

/**
 * Makes the cvm-sqlite backend from the environment.
 *
 * @param env `CVM_SQLITE_DB` (required), `_QUERY`, `_POSTQ`, `_PWCMP`.
 * @param _context Unused: the file is kept open in every mode until closed.
 * @returns The backend.
 * @throws {CvmError} CONFIG naming the variable that is wrong.
 * @example
 * ```ts
 * import { createSqliteBackend } from "./sqlite.ts";
 * import assert from "node:assert/strict";
 * const backend = createSqliteBackend({ CVM_SQLITE_DB: ":memory:" }, { persistent: false });
 * assert.equal(await backend.lookup({ account: "bob", domain: "", domainGiven: false,
 *   credentials: [], version: 2 }).catch((e) => e.code), 4); // no accounts table: IO
 * await backend.close?.();
 * ```
 */
export function createSqliteBackend(
  env: Record<string, string | undefined>,
  _context: BackendContext,
): Backend<SqlAccount> {
  const path = env.CVM_SQLITE_DB;
  if (!path) throw new CvmError(ErrorCode.CONFIG, "$CVM_SQLITE_DB is not set");
  const settings = readSqlSettings(SQLITE_SPEC, env);
  return createSqlBackend(
    settings,
    createSqliteDriver(path),
    env,
  );
}
