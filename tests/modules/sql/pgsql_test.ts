/**
 * cvm-pgsql against the real PostgreSQL, next to Debian's cvm-pgsql: the
 * same schema, table and environment, driven by the reference's
 * cvm-testclient; identical output and exit status except where the
 * reference is unsafe or wrong, which each test names. The cases both SQL
 * servers share are in `_server_suite.ts`; this file runs them on
 * PostgreSQL and adds the ones only cvm-pgsql has.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { dist, ensureDist, freeUdpPort } from "../../_helpers.ts";
import { PG, POSTGRESQL, QUERY12, startCaptured } from "./_helpers.ts";
import { INSERT_POSTQ, lines, serverSuite, testBed } from "./_server_suite.ts";

const pg = await testBed(POSTGRESQL);
const { haveReference, OURS, THEIRS, needsDb, testclient } = pg;

serverSuite(pg, {
  tooFewColumns: {
    query:
      "SELECT password, username, userid, groupid FROM accounts WHERE username=$account",
    reference: { code: 3, name: "BAD_MODDATA" },
  },
  pool: {
    account: ["jürgen", "grüße"],
    env: (tag) => ({ PGAPPNAME: tag }),
    openConnections: async (db, tag) => {
      const [[open]] = await db.exec(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        [tag],
      );
      return Number(open);
    },
    range: [1, 4],
  },
  localConfigError: {
    what: "a configuration error",
    env: { PGHOST: PG.host, CVM_PGSQL_QUERY: "SELECT $NOT_SET_HERE" },
    stderr:
      "cvm-pgsql-local: Fatal: $CVM_PGSQL_QUERY uses $NOT_SET_HERE, which is not set\n",
  },
});

Deno.test({
  name:
    "cvm-pgsql: the post-query runs after a success and not after a rejection",
  ...needsDb,
  fn: () =>
    pg.withPostLog(async ({ env, logged, clear }) => {
      const postEnv = { ...env, CVM_PGSQL_POSTQ: INSERT_POSTQ };
      assertEquals(
        (await testclient(OURS, ["bob", "", "wrong"], postEnv)).code,
        100,
      );
      assertEquals(
        (await testclient(OURS, ["nobody", "", "secret"], postEnv)).code,
        100,
      );
      assertEquals((await testclient(OURS, ["bob", ""], postEnv)).code, 7);
      assertEquals(
        (await testclient(OURS, ["abc", "", "secret"], postEnv)).code,
        3,
      );
      assertEquals(await logged(), []);
      const ok = await testclient(OURS, ["alice@example.com", "", "pw-com"], {
        ...postEnv,
      });
      assertEquals(ok.code, 0, ok.stderr);
      assertEquals(await logged(), [["alice", "example.com"]]);
      // The reference answers IO after such a post-query (it reads its
      // result as an account row), though the row is inserted.
      if (haveReference) {
        await clear();
        const theirs = await testclient(THEIRS, ["bob", "", "secret"], postEnv);
        assertEquals(theirs.code, 4);
        assertEquals(await logged(), [["bob", ""]]);
      }
    }),
});

Deno.test({
  name:
    "cvm-pgsql: a post-query returning the account row works as in the reference",
  ...needsDb,
  fn: () =>
    pg.withPostLog(async ({ env, logged }) => {
      const postEnv = {
        ...env,
        CVM_PGSQL_POSTQ:
          "WITH logged AS (INSERT INTO postlog VALUES ($account, $domain)) " +
          QUERY12,
      };
      const ours = await testclient(OURS, ["bob", "", "secret"], postEnv);
      assertEquals(ours.code, 0, ours.stderr);
      if (haveReference) {
        assertEquals(
          ours,
          await testclient(THEIRS, ["bob", "", "secret"], postEnv),
        );
        assertEquals(await logged(), [["bob", ""], ["bob", ""]]);
      } else {
        assertEquals(await logged(), [["bob", ""]]);
      }
    }),
});

Deno.test({
  name: "cvm-pgsql: the post-query runs in lookup mode, as in the reference",
  ...needsDb,
  fn: () =>
    pg.withPostLog(async ({ env, logged }) => {
      const postEnv = {
        ...env,
        CVM_PGSQL_POSTQ: INSERT_POSTQ,
        CVM_LOOKUP_SECRET: "",
      };
      assertEquals((await testclient(OURS, ["nul", ""], postEnv)).code, 0);
      assertEquals(await logged(), [["nul", ""]]);
      if (haveReference) {
        // The reference's post-query must return the row (see above).
        const rowEnv = {
          ...postEnv,
          CVM_PGSQL_POSTQ:
            "WITH logged AS (INSERT INTO postlog VALUES ($account, $domain)) " +
            QUERY12,
        };
        assertEquals(
          await testclient(OURS, ["emp", ""], rowEnv),
          await testclient(THEIRS, ["emp", ""], rowEnv),
        );
        assertEquals(await logged(), [["emp", ""], ["emp", ""], ["nul", ""]]);
      }
    }),
});

Deno.test({
  name:
    "cvm-pgsql: $NAME, ${NAME} and $$ in the query are values from the environment, bound",
  ...needsDb,
  fn: () =>
    pg.withDatabase(async (db) => {
      const env = {
        ...db.env,
        CVM_PGSQL_QUERY:
          "SELECT password, username, userid, groupid, ${CVM_HOME_BASE} || '/' || username, " +
          "$REALNAME_PREFIX || '$$' FROM accounts WHERE username=${account} AND domain=$domain",
        CVM_HOME_BASE: "/srv/mail",
        REALNAME_PREFIX: "it's ",
      };
      const ours = await testclient(OURS, ["bob", "", "secret"], env);
      assertEquals(ours.code, 0, ours.stderr);
      assert(lines(ours.stdout).includes("directory:        /srv/mail/bob"));
      assert(lines(ours.stdout).includes("real name:        it's $"));
    }),
});

Deno.test({
  name:
    "cvm-pgsql: configuration errors exit CONFIG naming the variable, without a secret",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const base = {
      PGHOST: PG.host,
      PGUSER: PG.user,
      PGDATABASE: PG.database,
      PGPASSWORD: "hunter2-not-logged",
    };
    const cases: [Record<string, string>, string][] = [
      [{ CVM_PGSQL_PWCMP: "md5" }, "$CVM_PGSQL_PWCMP"],
      [{ CVM_PGSQL_QUERY: "SELECT $NOT_SET_ANYWHERE" }, "$NOT_SET_ANYWHERE"],
      [{ CVM_PGSQL_QUERY: "SELECT ${account" }, "$CVM_PGSQL_QUERY"],
      [{ CVM_PGSQL_POSTQ: "SELECT $NOT_SET_EITHER" }, "$CVM_PGSQL_POSTQ"],
      [{ PGPORT: "fivefour" }, "$PGPORT"],
      [{ CVM_SQL_TIMEOUT: "soon" }, "$CVM_SQL_TIMEOUT"],
      [{ CVM_SQL_TIMEOUT: "0" }, "$CVM_SQL_TIMEOUT"],
    ];
    for (const [extra, named] of cases) {
      const out = await testclient(OURS, ["bob", "", "secret"], {
        ...base,
        ...extra,
      });
      assertEquals(out.code, 6, JSON.stringify(extra));
      assert(out.stderr.includes(named), out.stderr);
      assert(!out.stderr.includes("hunter2"), out.stderr);
    }
  },
});

Deno.test({
  name: "cvm-pgsql-udp: serves validations over UDP",
  ...needsDb,
  fn: () =>
    pg.withDatabase(async (db) => {
      const port = await freeUdpPort();
      const server = await startCaptured(
        `${dist}/cvm-pgsql-udp`,
        ["127.0.0.1", String(port)],
        { ...db.env, CVM_PGSQL_QUERY: QUERY12 },
      );
      try {
        const module = `cvm-udp:127.0.0.1:${port}`;
        const ok = await testclient(module, ["山田", "", "秘密"], {});
        assertEquals(ok.code, 0, ok.stderr);
        assert(lines(ok.stdout).includes("user name:        山田"));
        assertEquals(
          (await testclient(module, ["bob", "", "wrong"], {})).code,
          100,
        );
        await server.waitForLines(3);
        assertEquals(server.log.slice(1), ["+ 山田", "- bob"]);
      } finally {
        await server.stop();
      }
    }),
});
