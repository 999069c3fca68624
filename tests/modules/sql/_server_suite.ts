/**
 * The tests cvm-pgsql and cvm-mysql share, written once and run per
 * database: a test bed per database (is it up, is the reference there, a
 * database of the test's own, the reference's cvm-testclient) and the suite
 * of cases both modules must pass, with what differs between the two
 * servers (variable names, how to count connections, …) as parameters.
 * `pgsql_test.ts` and `mysql_test.ts` run the suite and add the cases only
 * their database has.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { dist, ensureDist } from "../../_helpers.ts";
import {
  type AccountRow,
  opensslCrypt,
  type Outcome,
  QUERY12,
  REF,
  referenceAvailable,
  runModule,
  runWith,
  serverAvailable,
  type SqlServer,
  startCaptured,
  type TestDatabase,
  uniqueName,
  withDatabase,
} from "./_helpers.ts";
import {
  accountRows,
  CRYPT_PASSWORD,
  INJECTION_DROP,
  scenarios,
} from "./_scenarios.ts";

/** A post-query log table: the environment, and its rows. */
export interface PostLog {
  /** The database's environment with `$…_QUERY` set to all twelve columns. */
  env: Record<string, string>;
  /** The (account, domain) rows the post-query wrote, sorted. */
  logged(): Promise<unknown[][]>;
  /** Empties the log table. */
  clear(): Promise<unknown>;
}

/** One database's test bed: what every test of its module needs. */
export interface TestBed {
  /** The server of database. */
  server: SqlServer;
  /** Whether the server is up (or CVM_TEST_REQUIRE_SERVICES=1). */
  up: boolean;
  /** Whether the reference's module and cvm-testclient are installed. */
  haveReference: boolean;
  /** Our module program. */
  OURS: string;
  /** The reference's module program. */
  THEIRS: string;
  /** The rows every test database holds. */
  ROWS: AccountRow[];
  /** Options for tests that need the database (npm clients keep timers). */
  needsDb: { ignore: boolean; sanitizeOps: false; sanitizeResources: false };
  /** Runs the reference's cvm-testclient (ours when it is missing). */
  testclient(
    module: string,
    args: string[],
    env: Record<string, string>,
  ): Promise<Outcome>;
  /** Runs `fn` with a fresh database of the sample rows, then drops it. */
  withDatabase(fn: (db: TestDatabase) => Promise<void>): Promise<void>;
  /** As withDatabase, with an empty `postlog (account, domain)` table. */
  withPostLog(fn: (post: PostLog) => Promise<void>): Promise<void>;
}

/** The post-query that logs who logged in into `postlog`. */
export const INSERT_POSTQ = "INSERT INTO postlog VALUES ($account, $domain)";

/** A program's output as lines. */
export function lines(text: string): string[] {
  return text.split("\n");
}

/**
 * Checks for the server and the reference (logging a skip line when one is
 * missing) and builds the test bed.
 *
 * @param server The database server.
 * @returns The test bed.
 */
export async function testBed(server: SqlServer): Promise<TestBed> {
  const up = await serverAvailable(server);
  const haveReference = referenceAvailable(`cvm-${server.module}`) &&
    referenceAvailable("cvm-testclient");
  const client = haveReference
    ? `${REF}/cvm-testclient`
    : `${dist}/cvm-testclient`;
  const rows = accountRows(await opensslCrypt(CRYPT_PASSWORD));
  const withTestDatabase = (fn: (db: TestDatabase) => Promise<void>) =>
    withDatabase(server, rows, fn);
  return {
    server,
    up,
    haveReference,
    OURS: `${dist}/cvm-${server.module}`,
    THEIRS: `${REF}/cvm-${server.module}`,
    ROWS: rows,
    needsDb: { ignore: !up, sanitizeOps: false, sanitizeResources: false },
    testclient: (module, args, env) => runWith(client, [module, ...args], env),
    withDatabase: withTestDatabase,
    withPostLog: (fn) =>
      withTestDatabase(async (db) => {
        await db.exec(
          `CREATE TABLE postlog (account ${server.textType}, domain ${server.textType})`,
        );
        await fn({
          env: { ...db.env, [`${server.prefix}_QUERY`]: QUERY12 },
          logged: () =>
            db.exec("SELECT account, domain FROM postlog ORDER BY 1, 2"),
          clear: () => db.exec("DELETE FROM postlog"),
        });
      }),
  };
}

/** The cases that differ between the databases only in their values. */
export interface SuiteCases {
  /** A query returning too few columns, and what the reference answers to it (when checked). */
  tooFewColumns: {
    query: string;
    reference?: { code: number; name: string };
  };
  /** The `-local` server's pool of connections under concurrent requests. */
  pool: {
    /** The account (and password) the successful requests log in as. */
    account: readonly [string, string];
    /** Extra server environment, given a name unique to the test. */
    env?: (tag: string) => Record<string, string>;
    /** How many connections to the test database are open now. */
    openConnections(db: TestDatabase, tag: string): Promise<number>;
    /** The bounds (inclusive) the count must fall in. */
    range: readonly [number, number];
  };
  /** A configuration error the `-local` server must refuse before listening. */
  localConfigError: {
    /** What is wrong, for the test name. */
    what: string;
    env: Record<string, string>;
    /** The whole of its stderr. */
    stderr: string;
  };
}

/**
 * Registers the cases both SQL server modules must pass.
 *
 * @param bed The database's test bed.
 * @param cases The values that differ between the databases.
 */
export function serverSuite(bed: TestBed, cases: SuiteCases): void {
  const { server, haveReference, OURS, THEIRS, ROWS, needsDb, testclient } =
    bed;
  const name = `cvm-${server.module}`;
  const QUERY = `${server.prefix}_QUERY`;

  for (const scenario of scenarios(server.module)) {
    const how = scenario.reference
      ? ` (the reference answers ${scenario.reference.code})`
      : ", as the reference does";
    Deno.test({
      name: `${name}: ${scenario.name}${how}`,
      ...needsDb,
      fn: () =>
        bed.withDatabase(async (db) => {
          const env = {
            ...db.env,
            [QUERY]: QUERY12,
            ...(scenario.crypt ? { [`${server.prefix}_PWCMP`]: "crypt" } : {}),
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
      `${name}: the DROP TABLE injection name leaves the accounts table intact (ours and the reference)`,
    ...needsDb,
    fn: () =>
      bed.withDatabase(async (db) => {
        const env = { ...db.env, [QUERY]: QUERY12 };
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
      `${name}: with no $${QUERY} the manual's default query is used (the reference exits CONFIG)`,
    ...needsDb,
    fn: () =>
      bed.withDatabase(async (db) => {
        const ours = await testclient(OURS, ["bob", "", "secret"], db.env);
        assertEquals(ours.code, 0, ours.stderr);
        // The default query has eleven columns: no mailbox.
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

  Deno.test({
    name:
      `${name}: a failing post-query is a temporary error (IO), as in the reference`,
    ...needsDb,
    fn: () =>
      bed.withPostLog(async ({ env }) => {
        const postEnv = {
          ...env,
          [`${server.prefix}_POSTQ`]:
            "INSERT INTO no_such_table VALUES ($account)",
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

  const { reference } = cases.tooFewColumns;
  Deno.test({
    name: `${name}: a query with too few columns is CONFIG naming $${QUERY}${
      reference ? ` (the reference answers ${reference.name})` : ""
    }`,
    ...needsDb,
    fn: () =>
      bed.withDatabase(async (db) => {
        const env = { ...db.env, [QUERY]: cases.tooFewColumns.query };
        const ours = await testclient(OURS, ["bob", "", "secret"], env);
        assertEquals(ours.code, 6);
        assert(ours.stderr.includes(`$${QUERY}`), ours.stderr);
        if (haveReference && reference) {
          assertEquals(
            (await testclient(THEIRS, ["bob", "", "secret"], env)).code,
            reference.code,
          );
        }
      }),
  });

  Deno.test({
    name:
      `${name}: an unreachable server and a refused login are IO, as in the reference`,
    ...needsDb,
    fn: () =>
      bed.withDatabase(async (db) => {
        const { connection } = server;
        const wrong: Record<string, string>[] = [
          { [connection.port]: "1" },
          {
            [connection.user]: uniqueName("nouser"),
            [connection.password]: "hunter2",
          },
          { [connection.db]: uniqueName("no_such_db") },
        ];
        for (const extra of wrong) {
          const env = { ...db.env, [QUERY]: QUERY12, ...extra };
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

  const { pool } = cases;
  Deno.test({
    name:
      `${name}-local: concurrent requests share a small pool of kept connections`,
    ...needsDb,
    fn: () =>
      bed.withDatabase(async (db) => {
        const dir = Deno.makeTempDirSync({ prefix: `${name}-` });
        const socket = `${dir}/s`;
        const tag = uniqueName("cvmpool");
        const local = await startCaptured(`${dist}/${name}-local`, [socket], {
          ...db.env,
          [QUERY]: QUERY12,
          ...pool.env?.(tag),
        });
        try {
          const results = await Promise.all(
            Array.from(
              { length: 24 },
              (_, i) =>
                testclient(
                  `cvm-local:${socket}`,
                  i % 3 === 0
                    ? ["bob", "", "wrong"]
                    : [pool.account[0], "", pool.account[1]],
                  {},
                ),
            ),
          );
          results.forEach((r, i) =>
            assertEquals(r.code, i % 3 === 0 ? 100 : 0)
          );
          const open = await pool.openConnections(db, tag);
          const [least, most] = pool.range;
          assert(open >= least && open <= most, `${open} connections`);
          await local.waitForLines(25);
          assertEquals(
            local.log.filter((l) => l === `+ ${pool.account[0]}`).length,
            16,
          );
          assertEquals(local.log.filter((l) => l === "- bob").length, 8);
        } finally {
          await local.stop();
          Deno.removeSync(dir, { recursive: true });
        }
      }),
  });

  const { localConfigError } = cases;
  Deno.test({
    name:
      `${name}-local: ${localConfigError.what} exits CONFIG naming the variable, before listening`,
    ...needsDb,
    fn: async () => {
      await ensureDist();
      const dir = Deno.makeTempDirSync({ prefix: `${name}-` });
      try {
        const out = await runWith(
          `${dist}/${name}-local`,
          [`${dir}/s`],
          localConfigError.env,
        );
        assertEquals(out.code, 6);
        assertEquals(out.stderr, localConfigError.stderr);
        assertEquals([...Deno.readDirSync(dir)], []);
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    },
  });
}
