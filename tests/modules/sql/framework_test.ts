/**
 * The SQL framework without a database: query templates, bound values, row
 * checks, settings, the backend's order of password check, row check and
 * post-query, the MySQL option-file reader and the connection settings.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws,
} from "node:assert/strict";
import { CvmError, ErrorCode } from "../../../protocol/mod.ts";
import type { ModuleRequest } from "../../../modules/runtime/backend.ts";
import {
  bindValues,
  compileTemplate,
  createSqlBackend,
  databaseError,
  DEFAULT_QUERY,
  DEFAULT_SQL_TIMEOUT_MS,
  MAX_SQL_CONNECTIONS,
  parseSqlConnections,
  parseSqlTimeout,
  readSqlSettings,
  rowFacts,
  type SqlDriver,
  type SqlModuleSpec,
  type SqlStatement,
  type SqlValue,
} from "../../../modules/sql/framework.ts";
import {
  DEFAULT_MYSQL_SOCKET,
  mysqlConnectionSettings,
  parseOptionFile,
} from "../../../modules/sql/mysql.ts";
import { pgConnectionSettings } from "../../../modules/sql/pgsql.ts";

function throwsCode(fn: () => unknown, code: number, text?: string) {
  throws(fn, (e: unknown) => {
    assert(e instanceof CvmError, String(e));
    assertEquals(e.code, code);
    if (text) assert(e.message.includes(text), e.message);
    return true;
  });
}

Deno.test("compileTemplate() turns $NAME and ${NAME} into numbered placeholders for PostgreSQL", () => {
  const s = compileTemplate(
    "Q",
    "query",
    "SELECT a FROM t WHERE u=$account AND d=${domain} AND x=$account",
    "dollar",
  );
  assertEquals(s.text, "SELECT a FROM t WHERE u=$1 AND d=$2 AND x=$3");
  assertEquals(s.names, ["account", "domain", "account"]);
});

Deno.test("compileTemplate() uses ? placeholders for MySQL and SQLite", () => {
  const s = compileTemplate("Q", "query", "SELECT $a_1, ${b-c}", "question");
  assertEquals(s.text, "SELECT ?, ?");
  assertEquals(s.names, ["a_1", "b-c"]);
});

Deno.test("compileTemplate() keeps quotes around a variable as text: values never enter the SQL", () => {
  const s = compileTemplate("Q", "q", "WHERE u='$account'", "question");
  assertEquals(s.text, "WHERE u='?'");
});

Deno.test("compileTemplate() reads $$ as a dollar sign and keeps a lone $", () => {
  assertEquals(
    compileTemplate("Q", "q", "SELECT '$$x', $-, 1$", "dollar").text,
    "SELECT '$x', $-, 1$",
  );
});

Deno.test("compileTemplate() refuses $$ before a digit for PostgreSQL, where it would be a placeholder", () => {
  throwsCode(
    () => compileTemplate("CVM_PGSQL_QUERY", "q", "SELECT $$1", "dollar"),
    ErrorCode.CONFIG,
    "$CVM_PGSQL_QUERY",
  );
  assertEquals(
    compileTemplate("Q", "q", "SELECT $$1", "question").text,
    "SELECT $1",
  );
});

Deno.test("compileTemplate() keeps a placeholder apart from a following digit", () => {
  assertEquals(
    compileTemplate("Q", "q", "SELECT ${account}1", "dollar").text,
    "SELECT $1 1",
  );
});

Deno.test("compileTemplate() names the variable for an unterminated or empty ${} and an empty query", () => {
  throwsCode(
    () =>
      compileTemplate("CVM_MYSQL_QUERY", "q", "SELECT ${account", "question"),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_QUERY",
  );
  throwsCode(
    () => compileTemplate("CVM_MYSQL_QUERY", "q", "SELECT ${}", "question"),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_QUERY",
  );
  throwsCode(
    () => compileTemplate("CVM_MYSQL_QUERY", "q", "  ", "question"),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_QUERY",
  );
});

Deno.test("bindValues() takes account and domain from the request and the rest from the environment", () => {
  const s = compileTemplate(
    "Q",
    "q",
    "$account $domain $HOME $account",
    "question",
  );
  assertEquals(
    bindValues(s, { account: "x' OR '1'='1", domain: "" }, {
      HOME: "/root",
      account: "not this",
    }),
    ["x' OR '1'='1", "", "/root", "x' OR '1'='1"],
  );
});

Deno.test("readSqlSettings() uses the manual's default query when none is set", () => {
  const spec: SqlModuleSpec = {
    prefix: "CVM_PGSQL",
    style: "dollar",
    postQuery: true,
  };
  const s = readSqlSettings(spec, {});
  assertEquals(
    s.query.text,
    DEFAULT_QUERY.replace("$account", "$1").replace("$domain", "$2"),
  );
  assertEquals(s.scheme, "plain");
  assertEquals(s.postQuery, undefined);
  assertEquals(s.program, "cvm-pgsql");
});

Deno.test("readSqlSettings() names a variable the query uses that is not set", () => {
  const spec: SqlModuleSpec = {
    prefix: "CVM_MYSQL",
    style: "question",
    postQuery: true,
  };
  throwsCode(
    () => readSqlSettings(spec, { CVM_MYSQL_QUERY: "SELECT $UNSET_ONE" }),
    ErrorCode.CONFIG,
    "$UNSET_ONE",
  );
  throwsCode(
    () => readSqlSettings(spec, { CVM_MYSQL_POSTQ: "UPDATE t SET x=$NOPE" }),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_POSTQ",
  );
  throwsCode(
    () => readSqlSettings(spec, { CVM_MYSQL_PWCMP: "sha1" }),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_PWCMP",
  );
  const ok = readSqlSettings(spec, {
    CVM_MYSQL_QUERY: "SELECT ${EMPTY_BUT_SET}",
    EMPTY_BUT_SET: "",
  });
  assertEquals(ok.query.names, ["EMPTY_BUT_SET"]);
});

Deno.test("rowFacts() leaves out NULL optional columns and keeps empty ones", () => {
  const facts = rowFacts([
    "pw",
    "bob",
    "1000",
    "100",
    "/home/bob",
    null,
    "",
    "users",
    null,
    "sys",
    null,
    "Maildir/",
    "ignored 13th column",
  ]);
  assertEquals(facts, {
    username: "bob",
    userid: 1000,
    groupid: 100,
    directory: "/home/bob",
    shell: "",
    groupname: "users",
    sysUsername: "sys",
    mailbox: "Maildir/",
  });
});

Deno.test("rowFacts() makes a non-decimal, negative, oversized or NULL id BAD_MODDATA, never 0", () => {
  for (const uid of ["abc", "-5", "12abc", " 12", "", "4294967296", null]) {
    throwsCode(
      () => rowFacts(["pw", "bob", uid, "100", "/h"]),
      ErrorCode.BAD_MODDATA,
      "user ID",
    );
  }
  throwsCode(
    () => rowFacts(["pw", "bob", "1", "1.5", "/h"]),
    ErrorCode.BAD_MODDATA,
    "group ID",
  );
  assertEquals(rowFacts(["pw", "bob", "007", "4294967295", "/h"]).userid, 7);
});

Deno.test("rowFacts() makes a NULL or empty account name or directory BAD_MODDATA", () => {
  for (
    const row of [["pw", null, "1", "1", "/h"], ["pw", "", "1", "1", "/h"]]
  ) {
    throwsCode(() => rowFacts(row), ErrorCode.BAD_MODDATA, "account name");
  }
  for (const dir of [null, ""]) {
    throwsCode(
      () => rowFacts(["pw", "bob", "1", "1", dir]),
      ErrorCode.BAD_MODDATA,
      "directory",
    );
  }
});

/** A driver answering from a table of rows and recording what ran. */
function fakeDriver(rows: SqlValue[][], columns = 12) {
  const ran: { key: string; values: readonly string[] }[] = [];
  const driver: SqlDriver = {
    run(statement: SqlStatement, values: readonly string[]) {
      ran.push({ key: statement.key, values });
      if (statement.key === "postq") {
        return Promise.resolve({ columns: 0, rows: [] });
      }
      return Promise.resolve({
        columns,
        rows: rows.filter((r) => r[1] === values[0]),
      });
    },
    close: () => Promise.resolve(),
  };
  return { driver, ran };
}

const SPEC: SqlModuleSpec = {
  prefix: "CVM_X",
  style: "question",
  postQuery: true,
};
const enc = (s: string) => new TextEncoder().encode(s);

function request(account: string, password?: string): ModuleRequest {
  return {
    account,
    domain: "",
    domainGiven: false,
    password: password === undefined ? undefined : enc(password),
    credentials: [],
    version: 2,
  };
}

async function authenticate(
  env: Record<string, string>,
  rows: SqlValue[][],
  req: ModuleRequest,
) {
  const { driver, ran } = fakeDriver(rows);
  const backend = createSqlBackend(readSqlSettings(SPEC, env), driver, env);
  try {
    const account = await backend.lookup(req);
    if (account === undefined) return { outcome: "unknown", ran };
    if (!(await backend.authenticate(account, req))) {
      return { outcome: "rejected", ran };
    }
    return { outcome: backend.results(account, req), ran };
  } catch (e) {
    return { outcome: (e as CvmError).code, ran };
  }
}

const POSTQ = { CVM_X_POSTQ: "UPDATE t SET n=n+1 WHERE u=$account" };
const GOOD: SqlValue[] = ["pw", "bob", "1", "2", "/h"];
const BAD_UID: SqlValue[] = ["pw", "bad", "x", "2", "/h"];
const NO_PW: SqlValue[] = [null, "nopw", "1", "2", "/h"];
const EMPTY_PW: SqlValue[] = ["", "emptypw", "1", "2", "/h"];

Deno.test("createSqlBackend() runs the post-query after a success only", async () => {
  const ok = await authenticate(POSTQ, [GOOD], request("bob", "pw"));
  assertEquals(ok.ran.map((r) => r.key), ["query", "postq"]);
  assertEquals(ok.ran[1].values, ["bob"]);
  const wrong = await authenticate(POSTQ, [GOOD], request("bob", "nope"));
  assertEquals(wrong.outcome, "rejected");
  assertEquals(wrong.ran.map((r) => r.key), ["query"]);
  const unknown = await authenticate(POSTQ, [GOOD], request("zed", "pw"));
  assertEquals(unknown.outcome, "unknown");
  assertEquals(unknown.ran.map((r) => r.key), ["query"]);
});

Deno.test("createSqlBackend() checks the password before the row, and runs no post-query for a bad row", async () => {
  const wrong = await authenticate(POSTQ, [BAD_UID], request("bad", "nope"));
  assertEquals(wrong.outcome, "rejected");
  const right = await authenticate(POSTQ, [BAD_UID], request("bad", "pw"));
  assertEquals(right.outcome, ErrorCode.BAD_MODDATA);
  assertEquals(right.ran.map((r) => r.key), ["query"]);
});

Deno.test("createSqlBackend() never accepts a NULL or empty stored password, even an empty given one", async () => {
  assertEquals(
    (await authenticate({}, [NO_PW], request("nopw", ""))).outcome,
    "rejected",
  );
  assertEquals(
    (await authenticate({}, [EMPTY_PW], request("emptypw", ""))).outcome,
    "rejected",
  );
  assertEquals(
    (await authenticate({}, [NO_PW], request("nopw"))).outcome,
    ErrorCode.NOCRED,
  );
});

Deno.test("createSqlBackend() in lookup mode checks the row and runs the post-query at lookup", async () => {
  const env = { ...POSTQ, CVM_LOOKUP_SECRET: "" };
  const { driver, ran } = fakeDriver([GOOD, BAD_UID]);
  const backend = createSqlBackend(readSqlSettings(SPEC, env), driver, env);
  assert(await backend.lookup(request("bob")));
  assertEquals(ran.map((r) => r.key), ["query", "postq"]);
  await backend.lookup(request("bad")).then(
    () => assert(false, "a bad row must not pass lookup"),
    (e) => assertEquals(e.code, ErrorCode.BAD_MODDATA),
  );
});

Deno.test("createSqlBackend() makes a query with fewer than five columns CONFIG naming the variable", async () => {
  const { driver } = fakeDriver([["pw", "bob", "1", "2"]], 4);
  const backend = createSqlBackend(readSqlSettings(SPEC, {}), driver, {});
  const originalWrite = Deno.stderr.writeSync;
  let written = "";
  Deno.stderr.writeSync = (p: Uint8Array) => {
    written += new TextDecoder().decode(p);
    return p.length;
  };
  try {
    for (let i = 0; i < 2; i++) {
      await backend.lookup(request("bob", "pw")).then(
        () => assert(false, "must throw"),
        (e) => {
          assertEquals(e.code, ErrorCode.CONFIG);
          assert(e.message.includes("$CVM_X_QUERY"));
        },
      );
    }
  } finally {
    Deno.stderr.writeSync = originalWrite;
  }
  assertEquals(
    written,
    "cvm-x: $CVM_X_QUERY returns 4 columns; at least 5 are needed\n",
  );
});

Deno.test("createSqlBackend() treats two matching rows as unknown", async () => {
  const out = await authenticate({}, [GOOD, GOOD], request("bob", "pw"));
  assertEquals(out.outcome, "unknown");
});

Deno.test("databaseError() is IO and never carries a secret", () => {
  const e = databaseError(
    "PostgreSQL",
    new Error("password hunter2 failed for hunter2"),
    ["hunter2", undefined],
  );
  assertEquals(e.code, ErrorCode.IO);
  assertEquals(e.message, "PostgreSQL: password *** failed for ***");
  const kept = new CvmError(ErrorCode.CONFIG, "x");
  assertEquals(databaseError("MySQL", kept), kept);
});

Deno.test("parseOptionFile() reads the wanted groups like MariaDB's library: later wins, quotes stripped, no trailing comments", () => {
  const text = [
    "# comment",
    "; comment",
    "[client]",
    "host = db1",
    "user='mail'",
    'password="p#w"',
    "database=first",
    "skip-ssl",
    "[mysqld]",
    "database=server-only",
    "[cvm]",
    "  database = second  ",
    "port=3307 # not a comment",
    "[CVM]",
    "database=wrong-case",
    "[ cvm ]",
    "database=spaced",
    "[client]",
    'socket="/run/x.sock',
    "",
  ].join("\n");
  assertEquals(parseOptionFile(text, ["client", "cvm"]), {
    host: "db1",
    user: "mail",
    password: "p#w",
    database: "second",
    port: "3307 # not a comment",
    socket: "/run/x.sock",
  });
});

Deno.test("parseOptionFile() hands !include and !includedir lines over", () => {
  const seen: string[] = [];
  parseOptionFile(
    "!include /a.cnf\n!includedir /etc/x/\n",
    ["client"],
    {},
    (k, p) => {
      seen.push(`${k} ${p}`);
    },
  );
  assertEquals(seen, ["include /a.cnf", "includedir /etc/x/"]);
});

Deno.test("mysqlConnectionSettings() prefers variables over the option file, and no host means the socket", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      `${dir}/inc.cnf`,
      "[cvm]\npassword=from-include\n",
    );
    Deno.writeTextFileSync(
      `${dir}/my.cnf`,
      `[client]\nhost=db.example\nport=3310\nuser=fileuser\ndatabase=filedb\n!include ${dir}/inc.cnf\n`,
    );
    const file = { CVM_MYSQL_DEFAULT_FILE: `${dir}/my.cnf` };
    assertEquals(mysqlConnectionSettings(file), {
      host: "db.example",
      port: 3310,
      user: "fileuser",
      password: undefined,
      database: "filedb",
    });
    assertEquals(
      mysqlConnectionSettings({ ...file, CVM_MYSQL_DEFAULT_GROUP: "cvm" })
        .password,
      "from-include",
    );
    assertEquals(
      mysqlConnectionSettings({
        ...file,
        CVM_MYSQL_HOST: "localhost",
        CVM_MYSQL_USER: "envuser",
        CVM_MYSQL_PASS: "",
        CVM_MYSQL_DB: "envdb",
      }),
      {
        socketPath: DEFAULT_MYSQL_SOCKET,
        user: "envuser",
        password: "",
        database: "envdb",
      },
    );
    assertEquals(
      mysqlConnectionSettings({
        CVM_MYSQL_DB: "d",
        CVM_MYSQL_SOCKET: "/tmp/my.sock",
        CVM_MYSQL_USER: "u",
      }).socketPath,
      "/tmp/my.sock",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("mysqlConnectionSettings() is CONFIG without a database or with a bad port", () => {
  throwsCode(
    () => mysqlConnectionSettings({ CVM_MYSQL_HOST: "h" }),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_DB",
  );
  throwsCode(
    () => mysqlConnectionSettings({ CVM_MYSQL_DB: "d", CVM_MYSQL_PORT: "x" }),
    ErrorCode.CONFIG,
    "$CVM_MYSQL_PORT",
  );
  // A missing option file is skipped, as the reference's library does.
  assertEquals(
    mysqlConnectionSettings({
      CVM_MYSQL_DEFAULT_FILE: "/nonexistent/my.cnf",
      CVM_MYSQL_DB: "d",
      CVM_MYSQL_HOST: "h",
      CVM_MYSQL_USER: "u",
    }).host,
    "h",
  );
});

Deno.test("pgConnectionSettings() follows libpq's variables and defaults", () => {
  const s = pgConnectionSettings({
    PGHOST: "db",
    PGPORT: "5433",
    PGUSER: "mail",
    PGPASSWORD: "pw",
    PGOPTIONS: "-c search_path=x",
    PGCONNECT_TIMEOUT: "1",
    PGSSLMODE: "require",
  });
  assertEquals(s, {
    host: "db",
    port: 5433,
    database: "mail",
    user: "mail",
    password: "pw",
    options: "-c search_path=x",
    connectTimeout: 2,
    applicationName: "cvm-pgsql",
    ssl: "require",
  });
  assertEquals(
    pgConnectionSettings({ PGHOSTADDR: "10.0.0.1", PGHOST: "db" }).host,
    "10.0.0.1",
  );
  assertEquals(
    pgConnectionSettings({ PGPASSWORD: "", HOME: "/nonexistent" }).password,
    undefined,
  );
  throwsCode(
    () => pgConnectionSettings({ PGPORT: "54x" }),
    ErrorCode.CONFIG,
    "$PGPORT",
  );
  throwsCode(
    () => pgConnectionSettings({ PGSSLMODE: "sometimes" }),
    ErrorCode.CONFIG,
    "$PGSSLMODE",
  );
});

Deno.test("pgConnectionSettings() takes the password from ~/.pgpass when $PGPASSWORD is not set, as libpq does", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/.pgpass`;
    Deno.writeTextFileSync(
      file,
      [
        "# comment",
        "otherhost:*:*:*:wrong",
        "localhost:5432:mail:cvm:sock\\:et",
        "db.example:*:*:cvm:tcp-pw",
        "",
      ].join("\n"),
    );
    Deno.chmodSync(file, 0o600);
    const env = { HOME: dir, PGUSER: "cvm", PGDATABASE: "mail" };
    assertEquals(
      pgConnectionSettings({ ...env, PGHOST: "/var/run/postgresql" }).password,
      "sock\\:et".replace("\\", ""),
    );
    assertEquals(
      pgConnectionSettings({ ...env, PGHOST: "db.example" }).password,
      "tcp-pw",
    );
    assertEquals(
      pgConnectionSettings({ ...env, PGHOST: "db.example", PGPASSWORD: "env" })
        .password,
      "env",
    );
    // A file others can read is ignored.
    Deno.chmodSync(file, 0o644);
    assertEquals(
      pgConnectionSettings({ ...env, PGHOST: "db.example" }).password,
      undefined,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseSqlTimeout() reads seconds with fractions, 5 s by default, and a bad value is CONFIG naming $CVM_SQL_TIMEOUT", () => {
  assertEquals(DEFAULT_SQL_TIMEOUT_MS, 5000);
  assertEquals(parseSqlTimeout({}), 5000);
  assertEquals(parseSqlTimeout({ CVM_SQL_TIMEOUT: "" }), 5000);
  assertEquals(parseSqlTimeout({ CVM_SQL_TIMEOUT: "2" }), 2000);
  assertEquals(parseSqlTimeout({ CVM_SQL_TIMEOUT: "0.25" }), 250);
  assertEquals(parseSqlTimeout({ CVM_SQL_TIMEOUT: ".5" }), 500);
  assertEquals(parseSqlTimeout({ CVM_SQL_TIMEOUT: "86400" }), 86_400_000);
  for (
    const bad of ["0", "0.0001", "-1", "abc", "5s", " 5", "1e3", "86401", "NaN"]
  ) {
    throwsCode(
      () => parseSqlTimeout({ CVM_SQL_TIMEOUT: bad }),
      ErrorCode.CONFIG,
      "$CVM_SQL_TIMEOUT",
    );
  }
  throwsCode(
    () => readSqlSettings(SPEC, { CVM_SQL_TIMEOUT: "soon" }),
    ErrorCode.CONFIG,
    "$CVM_SQL_TIMEOUT",
  );
  assertEquals(
    readSqlSettings(SPEC, { CVM_SQL_TIMEOUT: "1.5" }).timeoutMs,
    1500,
  );
});

Deno.test("createSqlBackend() answers IO when a statement outlives $CVM_SQL_TIMEOUT, and tells the driver to drop its connection", async () => {
  const signals: AbortSignal[] = [];
  const hung: SqlDriver = {
    run(_statement, _values, deadline) {
      if (deadline) signals.push(deadline);
      return new Promise(() => {}); // a database that never answers
    },
    close: () => Promise.resolve(),
  };
  const env = { CVM_SQL_TIMEOUT: "0.05" };
  const backend = createSqlBackend(readSqlSettings(SPEC, env), hung, env);
  const code = await backend.lookup(request("bob", "pw")).then(
    () => "answered",
    (e) => (e as CvmError).code,
  );
  assertEquals(code, ErrorCode.IO);
  assertEquals(signals.length, 1);
  assert(signals[0].aborted, "the driver is told to drop the connection");
});

Deno.test("createSqlBackend() leaves the deadline alone for a statement that answers in time", async () => {
  const signals: AbortSignal[] = [];
  const { driver } = fakeDriver([GOOD]);
  const watched: SqlDriver = {
    run(statement, values, deadline) {
      if (deadline) signals.push(deadline);
      return driver.run(statement, values);
    },
    close: () => Promise.resolve(),
  };
  const backend = createSqlBackend(readSqlSettings(SPEC, {}), watched, {});
  assert(await backend.lookup(request("bob", "pw")));
  assertEquals(signals.length, 1);
  assert(!signals[0].aborted);
});

Deno.test("createSqlBackend() rejects an account or domain holding a NUL without asking the database", async () => {
  const { driver, ran } = fakeDriver([GOOD]);
  const backend = createSqlBackend(readSqlSettings(SPEC, {}), driver, {});
  assertEquals(await backend.lookup(request("bob\0", "pw")), undefined);
  assertEquals(
    await backend.lookup({ ...request("bob", "pw"), domain: "x\0" }),
    undefined,
  );
  assertEquals(ran, []);
});

Deno.test("parseSqlConnections() reads $CVM_SQL_CONNECTIONS from 1 to 64, the driver's number when unset, and a bad value is CONFIG naming it", () => {
  assertEquals(MAX_SQL_CONNECTIONS, 64);
  assertEquals(parseSqlConnections({}, 8), 8);
  assertEquals(parseSqlConnections({ CVM_SQL_CONNECTIONS: "" }, 2), 2);
  assertEquals(parseSqlConnections({ CVM_SQL_CONNECTIONS: "1" }, 8), 1);
  assertEquals(parseSqlConnections({ CVM_SQL_CONNECTIONS: "64" }, 8), 64);
  for (const bad of ["0", "65", "-1", "abc", "4 ", "1e1", "1000"]) {
    throwsCode(
      () => parseSqlConnections({ CVM_SQL_CONNECTIONS: bad }, 8),
      ErrorCode.CONFIG,
      "$CVM_SQL_CONNECTIONS",
    );
  }
});
