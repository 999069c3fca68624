/**
 * cvm-mysql against the real MariaDB, next to Debian's cvm-mysql: the same
 * database, table and environment, driven by the reference's
 * cvm-testclient; identical output and exit status except where the
 * reference is unsafe or wrong, which each test names. The cases both SQL
 * servers share are in `_server_suite.ts`; this file runs them on MariaDB
 * and adds the ones only cvm-mysql has: the option files
 * (`$CVM_MYSQL_DEFAULT_FILE`, `$CVM_MYSQL_DEFAULT_GROUP`), the local
 * socket, a missing database.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { ensureDist } from "../../_helpers.ts";
import { MARIADB, MY, QUERY12, runModule } from "./_helpers.ts";
import { INSERT_POSTQ, serverSuite, testBed } from "./_server_suite.ts";
import { DEFAULT_MYSQL_SOCKET } from "../../../modules/sql/mysql.ts";

const my = await testBed(MARIADB);
const { up, haveReference, OURS, THEIRS, needsDb, testclient } = my;
const haveSocket = (() => {
  try {
    return Deno.statSync(DEFAULT_MYSQL_SOCKET).isSocket === true;
  } catch {
    return false;
  }
})();

serverSuite(my, {
  tooFewColumns: {
    query: "SELECT password, username FROM accounts WHERE username=$account",
  },
  pool: {
    account: ["山田", "秘密"],
    // The pool's size is the variable's (the default is 8).
    env: () => ({ CVM_SQL_CONNECTIONS: "4" }),
    openConnections: async (db) => {
      const [[open]] = await db.exec(
        "SELECT count(*) FROM information_schema.processlist WHERE db = ?",
        [db.name],
      );
      return Number(open);
    },
    // Our own test connection is one of them.
    range: [2, 5],
  },
  localConfigError: {
    what: "a bad $CVM_SQL_TIMEOUT",
    env: {
      CVM_MYSQL_QUERY: QUERY12,
      CVM_MYSQL_HOST: MY.host,
      CVM_MYSQL_USER: MY.user,
      CVM_MYSQL_DB: "test",
      CVM_SQL_TIMEOUT: "5 seconds",
    },
    stderr:
      "cvm-mysql-local: Fatal: $CVM_SQL_TIMEOUT is not a number of seconds from 0.001 to 86400\n",
  },
});

Deno.test({
  name:
    "cvm-mysql: the post-query runs after a success and not after a rejection, as in the reference",
  ...needsDb,
  fn: () =>
    my.withPostLog(async ({ env, logged, clear }) => {
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
    my.withPostLog(async ({ env, logged }) => {
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
    my.withDatabase(async (db) => {
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
    my.withDatabase(async (db) => {
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
