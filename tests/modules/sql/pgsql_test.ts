/**
 * cvm-pgsql against the real PostgreSQL, next to Debian's cvm-pgsql: the
 * same schema, table and environment, driven by the reference's
 * cvm-testclient; identical output and exit status except where the
 * reference is unsafe or wrong, which each test names.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { dist, ensureDist, freeUdpPort } from "../../_helpers.ts";
import {
  createPgSchema,
  opensslCrypt,
  type Outcome,
  PG,
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

const up = await serviceAvailable("PostgreSQL", PG.port);
const haveReference = referenceAvailable("cvm-pgsql") &&
  referenceAvailable("cvm-testclient");
const TESTCLIENT = haveReference
  ? `${REF}/cvm-testclient`
  : `${dist}/cvm-testclient`;
const OURS = `${dist}/cvm-pgsql`;
const THEIRS = `${REF}/cvm-pgsql`;
const HASH = await opensslCrypt(CRYPT_PASSWORD);
const ROWS = accountRows(HASH);

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

for (const scenario of scenarios("pgsql")) {
  const how = scenario.reference
    ? ` (the reference answers ${scenario.reference.code})`
    : ", as the reference does";
  Deno.test({
    name: `cvm-pgsql: ${scenario.name}${how}`,
    ...needsDb,
    fn: async () => {
      await ensureDist();
      const schema = await createPgSchema(ROWS);
      try {
        const env = {
          ...schema.env,
          CVM_PGSQL_QUERY: QUERY12,
          ...(scenario.crypt ? { CVM_PGSQL_PWCMP: "crypt" } : {}),
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
      } finally {
        await schema.drop();
      }
    },
  });
}

Deno.test({
  name:
    "cvm-pgsql: the DROP TABLE injection name leaves the accounts table intact (ours and the reference)",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    try {
      const env = { ...schema.env, CVM_PGSQL_QUERY: QUERY12 };
      await testclient(OURS, [INJECTION_DROP, "", "x"], env);
      if (haveReference) {
        await testclient(THEIRS, [INJECTION_DROP, "", "x"], env);
      }
      const [[count]] = await schema.exec("SELECT count(*) FROM accounts");
      assertEquals(Number(count), ROWS.length);
    } finally {
      await schema.drop();
    }
  },
});

Deno.test({
  name:
    "cvm-pgsql: with no $CVM_PGSQL_QUERY the manual's default query is used (the reference exits CONFIG)",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    try {
      const ours = await testclient(OURS, ["bob", "", "secret"], schema.env);
      assertEquals(ours.code, 0, ours.stderr);
      // The default query has eleven columns: no mailbox.
      assert(lines(ours.stdout).includes("mailbox path:     (null)"));
      assert(lines(ours.stdout).includes("system directory: /var/sys/bob"));
      if (haveReference) {
        // It exits CONFIG at once, without output (module to module: see
        // runModule).
        const theirs = await runModule(THEIRS, schema.env);
        assertEquals(theirs.code, 6);
        assertEquals(theirs.stdout.length, 0);
      }
    } finally {
      await schema.drop();
    }
  },
});

/** A post-query log table in the schema, and the rows in it. */
async function withPostLog(
  fn: (
    env: Record<string, string>,
    logged: () => Promise<unknown[][]>,
    exec: (sql: string) => Promise<unknown>,
  ) => Promise<void>,
) {
  await ensureDist();
  const schema = await createPgSchema(ROWS);
  try {
    await schema.exec("CREATE TABLE postlog (account text, domain text)");
    await fn(
      { ...schema.env, CVM_PGSQL_QUERY: QUERY12 },
      () => schema.exec("SELECT account, domain FROM postlog ORDER BY 1, 2"),
      (sql) => schema.exec(sql),
    );
  } finally {
    await schema.drop();
  }
}

const INSERT_POSTQ = "INSERT INTO postlog VALUES ($account, $domain)";

Deno.test({
  name:
    "cvm-pgsql: the post-query runs after a success and not after a rejection",
  ...needsDb,
  fn: () =>
    withPostLog(async (env, logged, exec) => {
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
        await exec("DELETE FROM postlog");
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
    withPostLog(async (env, logged) => {
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
    withPostLog(async (env, logged) => {
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
    "cvm-pgsql: a failing post-query is a temporary error (IO), as in the reference",
  ...needsDb,
  fn: () =>
    withPostLog(async (env) => {
      const postEnv = {
        ...env,
        CVM_PGSQL_POSTQ: "INSERT INTO no_such_table VALUES ($account)",
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
    "cvm-pgsql: $NAME, ${NAME} and $$ in the query are values from the environment, bound",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    try {
      const env = {
        ...schema.env,
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
    } finally {
      await schema.drop();
    }
  },
});

Deno.test({
  name:
    "cvm-pgsql: a query with too few columns is CONFIG naming $CVM_PGSQL_QUERY (the reference answers BAD_MODDATA)",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    try {
      const env = {
        ...schema.env,
        CVM_PGSQL_QUERY:
          "SELECT password, username, userid, groupid FROM accounts WHERE username=$account",
      };
      const ours = await testclient(OURS, ["bob", "", "secret"], env);
      assertEquals(ours.code, 6);
      assert(ours.stderr.includes("$CVM_PGSQL_QUERY"), ours.stderr);
      if (haveReference) {
        assertEquals(
          (await testclient(THEIRS, ["bob", "", "secret"], env)).code,
          3,
        );
      }
    } finally {
      await schema.drop();
    }
  },
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
  name:
    "cvm-pgsql: an unreachable server and a refused login are IO, as in the reference",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    try {
      const cases: Record<string, string>[] = [
        { PGPORT: "1" },
        { PGUSER: uniqueName("no_such_role"), PGPASSWORD: "hunter2" },
        { PGDATABASE: uniqueName("no_such_db") },
      ];
      for (const extra of cases) {
        const env = { ...schema.env, CVM_PGSQL_QUERY: QUERY12, ...extra };
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
    } finally {
      await schema.drop();
    }
  },
});

Deno.test({
  name:
    "cvm-pgsql-local: concurrent requests share a small pool of kept connections",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    const dir = Deno.makeTempDirSync({ prefix: "cvm-pgsql-" });
    const socket = `${dir}/s`;
    const app = uniqueName("cvmpool");
    const server = await startCaptured(`${dist}/cvm-pgsql-local`, [socket], {
      ...schema.env,
      CVM_PGSQL_QUERY: QUERY12,
      PGAPPNAME: app,
    });
    try {
      const results = await Promise.all(
        Array.from(
          { length: 24 },
          (_, i) =>
            testclient(
              `cvm-local:${socket}`,
              i % 3 === 0 ? ["bob", "", "wrong"] : ["jürgen", "", "grüße"],
              {},
            ),
        ),
      );
      results.forEach((r, i) => assertEquals(r.code, i % 3 === 0 ? 100 : 0));
      const [[open]] = await schema.exec(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        [app],
      );
      assert(Number(open) >= 1 && Number(open) <= 4, `${open} connections`);
      await server.waitForLines(25);
      assertEquals(server.log.filter((l) => l === "+ jürgen").length, 16);
      assertEquals(server.log.filter((l) => l === "- bob").length, 8);
    } finally {
      await server.stop();
      await schema.drop();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "cvm-pgsql-local: a configuration error exits CONFIG naming the variable, before listening",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const dir = Deno.makeTempDirSync({ prefix: "cvm-pgsql-" });
    try {
      const out = await runWith(`${dist}/cvm-pgsql-local`, [`${dir}/s`], {
        PGHOST: PG.host,
        CVM_PGSQL_QUERY: "SELECT $NOT_SET_HERE",
      });
      assertEquals(out.code, 6);
      assertEquals(
        out.stderr,
        "cvm-pgsql-local: Fatal: $CVM_PGSQL_QUERY uses $NOT_SET_HERE, which is not set\n",
      );
      assertEquals([...Deno.readDirSync(dir)], []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "cvm-pgsql-udp: serves validations over UDP",
  ...needsDb,
  fn: async () => {
    await ensureDist();
    const schema = await createPgSchema(ROWS);
    const port = await freeUdpPort();
    const server = await startCaptured(
      `${dist}/cvm-pgsql-udp`,
      ["127.0.0.1", String(port)],
      { ...schema.env, CVM_PGSQL_QUERY: QUERY12 },
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
      await schema.drop();
    }
  },
});
