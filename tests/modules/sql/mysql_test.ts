/**
 * cvm-mysql against the real MariaDB, next to Debian's cvm-mysql: the same
 * database, table and environment, driven by the reference's
 * cvm-testclient; identical output and exit status except where the
 * reference is unsafe or wrong, which each test names. Also the option
 * files (`$CVM_MYSQL_DEFAULT_FILE`, `$CVM_MYSQL_DEFAULT_GROUP`).
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { dist, ensureDist } from "../../_helpers.ts";
import {
  createMyDatabase,
  MY,
  type MyDatabase,
  opensslCrypt,
  type Outcome,
  QUERY12,
  REF,
  referenceAvailable,
  runModule,
  runWith,
  serviceAvailable,
  startCaptured,
  uniqueName,
} from "./_helpers.ts";
import {
  accountRows,
  CRYPT_PASSWORD,
  INJECTION_DROP,
  scenarios,
} from "./_scenarios.ts";
import { DEFAULT_MYSQL_SOCKET } from "../../../modules/sql/mysql.ts";

const up = await serviceAvailable("MariaDB", MY.port);
const haveReference = referenceAvailable("cvm-mysql") &&
  referenceAvailable("cvm-testclient");
const TESTCLIENT = haveReference
  ? `${REF}/cvm-testclient`
  : `${dist}/cvm-testclient`;
const OURS = `${dist}/cvm-mysql`;
const THEIRS = `${REF}/cvm-mysql`;
const HASH = await opensslCrypt(CRYPT_PASSWORD);
const ROWS = accountRows(HASH);
const haveSocket = (() => {
  try {
    return Deno.statSync(DEFAULT_MYSQL_SOCKET).isSocket === true;
  } catch {
    return false;
  }
})();

/** Options for tests that need the database (npm clients keep timers). */
const needsDb = { ignore: !up, sanitizeOps: false, sanitizeResources: false };

function testclient(
  module: string,
  args: string[],
  env: Record<string, string>,
): Promise<Outcome> {
  return runWith(TESTCLIENT, [module, ...args], env);
}

function lines(text: string): string[] {
  return text.split("\n");
}

/** Runs `fn` with a fresh database of the sample rows, then drops it. */
async function withDatabase(fn: (db: MyDatabase) => Promise<void>) {
  await ensureDist();
  const db = await createMyDatabase(ROWS);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

for (const scenario of scenarios("mysql")) {
  const how = scenario.reference
    ? ` (the reference answers ${scenario.reference.code})`
    : ", as the reference does";
  Deno.test({
    name: `cvm-mysql: ${scenario.name}${how}`,
    ...needsDb,
    fn: () =>
      withDatabase(async (db) => {
        const env = {
          ...db.env,
          CVM_MYSQL_QUERY: QUERY12,
          ...(scenario.crypt ? { CVM_MYSQL_PWCMP: "crypt" } : {}),
          ...scenario.env,
        };
        const [ours, theirs] = await Promise.all([
          testclient(OURS, scenario.args, env),
          haveReference ? testclient(THEIRS, scenario.args, env) : undefined,
        ]);
        assertEquals(ours.code, scenario.code, ours.stderr);
        for (const line of scenario.lines ?? []) {
          assert(lines(ours.stdout).includes(line), `no line ${line}`);
        }
        if (theirs === undefined) return;
        if (scenario.reference) {
          assertEquals(theirs.code, scenario.reference.code);
        } else {
          assertEquals(ours, theirs);
        }
      }),
  });
}

Deno.test({
  name:
    "cvm-mysql: the DROP TABLE injection name leaves the accounts table intact (ours and the reference)",
  ...needsDb,
  fn: () =>
    withDatabase(async (db) => {
      const env = { ...db.env, CVM_MYSQL_QUERY: QUERY12 };
      await testclient(OURS, [INJECTION_DROP, "", "x"], env);
      if (haveReference) {
        await testclient(THEIRS, [INJECTION_DROP, "", "x"], env);
      }
      const [[count]] = await db.exec("SELECT count(*) FROM accounts");
      assertEquals(Number(count), ROWS.length);
    }),
});

Deno.test({
  name:
    "cvm-mysql: with no $CVM_MYSQL_QUERY the manual's default query is used (the reference exits CONFIG)",
  ...needsDb,
  fn: () =>
    withDatabase(async (db) => {
      const ours = await testclient(OURS, ["bob", "", "secret"], db.env);
      assertEquals(ours.code, 0, ours.stderr);
      assert(lines(ours.stdout).includes("mailbox path:     (null)"));
      assert(lines(ours.stdout).includes("system directory: /var/sys/bob"));
      if (haveReference) {
        // It exits CONFIG at once, without output (module to module: see
        // runModule).
        const theirs = await runModule(THEIRS, db.env);
        assertEquals(theirs.code, 6);
        assertEquals(theirs.stdout.length, 0);
      }
    }),
});

const INSERT_POSTQ = "INSERT INTO postlog VALUES ($account, $domain)";

async function withPostLog(
  fn: (
    env: Record<string, string>,
    logged: () => Promise<unknown[][]>,
    clear: () => Promise<unknown>,
  ) => Promise<void>,
) {
  await withDatabase(async (db) => {
    await db.exec(
      "CREATE TABLE postlog (account varchar(255), domain varchar(255))",
    );
    await fn(
      { ...db.env, CVM_MYSQL_QUERY: QUERY12 },
      () => db.exec("SELECT account, domain FROM postlog ORDER BY 1, 2"),
      () => db.exec("DELETE FROM postlog"),
    );
  });
}

Deno.test({
  name:
    "cvm-mysql: the post-query runs after a success and not after a rejection, as in the reference",
  ...needsDb,
  fn: () =>
    withPostLog(async (env, logged, clear) => {
      const postEnv = { ...env, CVM_MYSQL_POSTQ: INSERT_POSTQ };
      for (const module of haveReference ? [OURS, THEIRS] : [OURS]) {
        await clear();
        assertEquals(
          (await testclient(module, ["bob", "", "wrong"], postEnv)).code,
          100,
        );
        assertEquals(
          (await testclient(module, ["nobody", "", "x"], postEnv)).code,
          100,
        );
        assertEquals((await testclient(module, ["bob", ""], postEnv)).code, 7);
        assertEquals(await logged(), [], module);
        const ok = await testclient(
          module,
          ["alice@example.com", "", "pw-com"],
          postEnv,
        );
        assertEquals(ok.code, 0, ok.stderr);
        assertEquals(await logged(), [["alice", "example.com"]], module);
      }
      // Ours never runs it before the row is known good.
      await clear();
      assertEquals(
        (await testclient(OURS, ["abc", "", "secret"], postEnv)).code,
        3,
      );
      assertEquals(await logged(), []);
    }),
});

Deno.test({
  name: "cvm-mysql: the post-query runs in lookup mode, as in the reference",
  ...needsDb,
  fn: () =>
    withPostLog(async (env, logged) => {
      const postEnv = {
        ...env,
        CVM_MYSQL_POSTQ: INSERT_POSTQ,
        CVM_LOOKUP_SECRET: "",
      };
      const ours = await testclient(OURS, ["nul", ""], postEnv);
      assertEquals(ours.code, 0);
      if (haveReference) {
        assertEquals(ours, await testclient(THEIRS, ["nul", ""], postEnv));
        assertEquals(await logged(), [["nul", ""], ["nul", ""]]);
      } else {
        assertEquals(await logged(), [["nul", ""]]);
      }
    }),
});

Deno.test({
  name:
    "cvm-mysql: a failing post-query is a temporary error (IO), as in the reference",
  ...needsDb,
  fn: () =>
    withPostLog(async (env) => {
      const postEnv = {
        ...env,
        CVM_MYSQL_POSTQ: "INSERT INTO no_such_table VALUES ($account)",
      };
      const ours = await testclient(OURS, ["bob", "", "secret"], postEnv);
      assertEquals(ours.code, 4);
      if (haveReference) {
        assertEquals(
          ours,
          await testclient(THEIRS, ["bob", "", "secret"], postEnv),
        );
      }
    }),
});

Deno.test({
  name:
    "cvm-mysql: a query with too few columns is CONFIG naming $CVM_MYSQL_QUERY",
  ...needsDb,
  fn: () =>
    withDatabase(async (db) => {
      const env = {
        ...db.env,
        CVM_MYSQL_QUERY:
          "SELECT password, username FROM accounts WHERE username=$account",
      };
      const ours = await testclient(OURS, ["bob", "", "secret"], env);
      assertEquals(ours.code, 6);
      assert(ours.stderr.includes("$CVM_MYSQL_QUERY"), ours.stderr);
    }),
});

/** Writes an option file into a temporary directory. */
function optionFile(text: string): { path: string; remove: () => void } {
  const dir = Deno.makeTempDirSync({ prefix: "cvm-mysql-cnf-" });
  Deno.writeTextFileSync(`${dir}/my.cnf`, text);
  return {
    path: `${dir}/my.cnf`,
    remove: () => Deno.removeSync(dir, { recursive: true }),
  };
}

Deno.test({
  name:
    "cvm-mysql: connection settings from $CVM_MYSQL_DEFAULT_FILE and _GROUP work as in the reference",
  ...needsDb,
  fn: () =>
    withDatabase(async (db) => {
      const cnf = optionFile([
        "# comment",
        "[client]",
        `host = "${MY.host}"`,
        `port=${MY.port}`,
        `user='${MY.user}'`,
        "database=no_such_database_here",
        "[mysqld]",
        `database=${db.name}_not_this_group`,
        "[cvm]",
        `  database = ${db.name}`,
        "",
      ].join("\n"));
      try {
        const base = { CVM_MYSQL_QUERY: QUERY12 };
        const file = { ...base, CVM_MYSQL_DEFAULT_FILE: cnf.path };
        const home = cnf.path.replace(/\/my\.cnf$/, "");
        Deno.copyFileSync(cnf.path, `${home}/.my.cnf`);
        const cases: [string, Record<string, string>, number][] = [
          ["the group overrides [client]", {
            ...file,
            CVM_MYSQL_DEFAULT_GROUP: "cvm",
          }, 0],
          ["without the group, [client]'s database (missing)", file, 4],
          ["a variable wins over the file", {
            ...file,
            CVM_MYSQL_DB: db.name,
          }, 0],
          ["the group alone reads ~/.my.cnf", {
            ...base,
            HOME: home,
            CVM_MYSQL_DEFAULT_GROUP: "cvm",
          }, 0],
        ];
        for (const [what, env, code] of cases) {
          const ours = await testclient(OURS, ["bob", "", "secret"], env);
          assertEquals(ours.code, code, `${what}: ${ours.stderr}`);
          if (!haveReference) continue;
          if (code === 0) {
            assertEquals(
              ours,
              await testclient(THEIRS, ["bob", "", "secret"], env),
              what,
            );
          } else {
            // It exits before reading its input: module to module.
            assertEquals((await runModule(THEIRS, env)).code, code, what);
          }
        }
      } finally {
        cnf.remove();
      }
    }),
});

Deno.test({
  name: "cvm-mysql: no host means the local socket, as in the reference",
  ...needsDb,
  ignore: !up || !haveSocket,
  fn: () =>
    withDatabase(async (db) => {
      const env = {
        CVM_MYSQL_QUERY: QUERY12,
        CVM_MYSQL_DB: db.name,
        CVM_MYSQL_USER: MY.user,
      };
      const ours = await testclient(OURS, ["bob", "", "secret"], env);
      assertEquals(ours.code, 0, ours.stderr);
      if (haveReference) {
        assertEquals(
          ours,
          await testclient(THEIRS, ["bob", "", "secret"], env),
        );
      }
    }),
});

Deno.test({
  name:
    "cvm-mysql: no database anywhere is CONFIG naming $CVM_MYSQL_DB (the reference connects without one and fails the query)",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const env = {
      CVM_MYSQL_QUERY: QUERY12,
      CVM_MYSQL_HOST: MY.host,
      CVM_MYSQL_USER: MY.user,
      CVM_MYSQL_PASS: "hunter2-not-logged",
    };
    const ours = await testclient(OURS, ["bob", "", "secret"], env);
    assertEquals(ours.code, 6);
    assert(ours.stderr.includes("$CVM_MYSQL_DB"), ours.stderr);
    assert(!ours.stderr.includes("hunter2"), ours.stderr);
    if (haveReference) {
      assertEquals((await runModule(THEIRS, env)).code, 4);
    }
  },
});

Deno.test({
  name:
    "cvm-mysql: an unreachable server and a refused login are IO, as in the reference",
  ...needsDb,
  fn: () =>
    withDatabase(async (db) => {
      const cases: Record<string, string>[] = [
        { CVM_MYSQL_PORT: "1" },
        { CVM_MYSQL_USER: uniqueName("nouser"), CVM_MYSQL_PASS: "hunter2" },
        { CVM_MYSQL_DB: uniqueName("no_such_db") },
      ];
      for (const extra of cases) {
        const env = { ...db.env, CVM_MYSQL_QUERY: QUERY12, ...extra };
        const ours = await testclient(OURS, ["bob", "", "secret"], env);
        assertEquals(ours.code, 4, JSON.stringify(extra));
        assertEquals(
          ours.stderr,
          "cvm-testclient: Authentication failed, error #4 (Input/Output error)\n",
        );
        // The reference exits IO before reading its input: compared module
        // to module (see runModule).
        assertEquals((await runModule(OURS, env)).code, 4);
        if (haveReference) {
          assertEquals((await runModule(THEIRS, env)).code, 4);
        }
      }
    }),
});

Deno.test({
  name:
    "cvm-mysql-local: concurrent requests share a small pool of kept connections",
  ...needsDb,
  fn: () =>
    withDatabase(async (db) => {
      const dir = Deno.makeTempDirSync({ prefix: "cvm-mysql-" });
      const socket = `${dir}/s`;
      const server = await startCaptured(`${dist}/cvm-mysql-local`, [socket], {
        ...db.env,
        CVM_MYSQL_QUERY: QUERY12,
        // The pool's size is the variable's (the default is 8).
        CVM_SQL_CONNECTIONS: "4",
      });
      try {
        const results = await Promise.all(
          Array.from(
            { length: 24 },
            (_, i) =>
              testclient(
                `cvm-local:${socket}`,
                i % 3 === 0 ? ["bob", "", "wrong"] : ["山田", "", "秘密"],
                {},
              ),
          ),
        );
        results.forEach((r, i) => assertEquals(r.code, i % 3 === 0 ? 100 : 0));
        const [[open]] = await db.exec(
          "SELECT count(*) FROM information_schema.processlist WHERE db = ?",
          [db.name],
        );
        // Our own test connection is one of them.
        assert(Number(open) >= 2 && Number(open) <= 5, `${open} connections`);
        await server.waitForLines(25);
        assertEquals(server.log.filter((l) => l === "+ 山田").length, 16);
        assertEquals(server.log.filter((l) => l === "- bob").length, 8);
      } finally {
        await server.stop();
        Deno.removeSync(dir, { recursive: true });
      }
    }),
});

Deno.test({
  name:
    "cvm-mysql-local: a bad $CVM_SQL_TIMEOUT exits CONFIG naming it, before listening",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const dir = Deno.makeTempDirSync({ prefix: "cvm-mysql-" });
    try {
      const out = await runWith(`${dist}/cvm-mysql-local`, [`${dir}/s`], {
        CVM_MYSQL_QUERY: QUERY12,
        CVM_MYSQL_HOST: MY.host,
        CVM_MYSQL_USER: MY.user,
        CVM_MYSQL_DB: "test",
        CVM_SQL_TIMEOUT: "5 seconds",
      });
      assertEquals(out.code, 6);
      assertEquals(
        out.stderr,
        "cvm-mysql-local: Fatal: $CVM_SQL_TIMEOUT is not a number of seconds from 0.001 to 86400\n",
      );
      assertEquals([...Deno.readDirSync(dir)], []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
