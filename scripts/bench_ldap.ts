/**
 * Performance of cvm-ldap in server mode (`cvm-ldap-local`), in bind and in
 * compare mode, against a baseline from the same run: OpenLDAP's own
 * `ldapwhoami -x -D DN -w PASSWORD` in a loop, one process per check (what
 * a shell script or a checkpassword wrapper around ldap-utils would do).
 * No reference C module exists to compare with.
 *
 * A throwaway slapd (the tests' fixture, on loopback ports) holds 1,000
 * extra accounts with `{SSHA}` passwords; every client works through its
 * own run of accounts. Each figure is validations per second, at 1 client
 * and at 16 clients at once:
 *
 * - ours (`dist/cvm-ldap-local`, as installed): slots running the
 *   reference's `cvm-benchclient 100 cvm-local:…` again and again;
 *   successes are counted from the server's own log (`+` lines);
 * - baseline: slots running `ldapwhoami` again and again; successes are its
 *   zero exits.
 *
 * Each cell is the median of REPEATS runs, the three contestants
 * alternating so that noise on the machine hits them alike. Usage:
 *
 *     deno run --allow-all scripts/bench_ldap.ts [--quick]
 *
 * Without slapd and ldap-utils it says so and skips.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import {
  BASE,
  PEOPLE,
  READER_DN,
  READER_PW,
  SEARCHER_DN,
  SEARCHER_PW,
  type Slapd,
  SLAPD_TOOLS,
  startSlapd,
} from "../tests/modules/ldap/_slapd.ts";
import {
  childEnv,
  ensureBuilt,
  type Server,
  startServer,
} from "./_bench_proc.ts";
import { median } from "./_bench_rates.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const REF_BENCHCLIENT = "/usr/bin/cvm-benchclient";
const LDAPWHOAMI = "/usr/bin/ldapwhoami";
const ACCOUNTS = 1000;
/** Validations per cvm-benchclient run. */
const CHUNK = 100;

/** How long each run lasts and how many runs make a cell. */
interface Plan {
  seconds: number;
  repeats: number;
}

const FULL: Plan = { seconds: 3, repeats: 3 };
const QUICK: Plan = { seconds: 1, repeats: 1 };

/** One contestant's figures: validations per second at 1 and 16 clients. */
export interface LdapBenchFigures {
  /** What was measured. */
  name: string;
  /** Median rate at 1 client. */
  one: number;
  /** Median rate at 16 clients. */
  sixteen: number;
  /** Every run's rate at 1 client. */
  oneRuns: number[];
  /** Every run's rate at 16 clients. */
  sixteenRuns: number[];
  /** Client runs that failed (any non-zero exit). */
  failures: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function account(i: number): string {
  return `bench${i}`;
}

function password(i: number): string {
  return `bench-pw-${i}`;
}

/** `{SSHA}` as slappasswd makes it: base64(sha1(password + salt) + salt). */
function ssha(text: string): string {
  const salt = randomBytes(8);
  const digest = createHash("sha1").update(text).update(salt).digest();
  return "{SSHA}" + Buffer.concat([digest, salt]).toString("base64");
}

async function loadAccounts(slapd: Slapd): Promise<void> {
  const entries: string[] = [];
  for (let i = 1; i <= ACCOUNTS; i++) {
    entries.push([
      `dn: uid=${account(i)},${PEOPLE}`,
      "objectClass: inetOrgPerson",
      "objectClass: posixAccount",
      `uid: ${account(i)}`,
      `cn: Bench ${i}`,
      `sn: ${i}`,
      `uidNumber: ${20000 + i}`,
      "gidNumber: 100",
      `homeDirectory: /home/${account(i)}`,
      "loginShell: /bin/sh",
      `mail: ${account(i)}@example.com`,
      `userPassword: ${ssha(password(i))}`,
    ].join("\n"));
  }
  await slapd.ldapadd(entries.join("\n\n") + "\n");
}

/** cvm-ldap-local (dist/, as installed) on a socket, its log in a file. */
async function startModule(
  socket: string,
  env: Record<string, string>,
): Promise<Server> {
  const server = startServer(
    "cvm-ldap-local",
    [`${ROOT}/dist/cvm-ldap-local`, socket],
    childEnv(env),
    `${socket}.log`,
  );
  await server.waitFor("Starting.", 30_000);
  return server;
}

async function exitCode(cmd: string, args: string[]): Promise<number> {
  const out = await new Deno.Command(cmd, {
    args,
    env: { LDAPCONF: "/dev/null", HOME: "/nonexistent" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return out.code;
}

/**
 * Keeps `clients` slots running `once(slot, round)` until `seconds` pass;
 * returns the wall time and the failed runs.
 */
async function slots(
  clients: number,
  seconds: number,
  once: (slot: number, round: number) => Promise<boolean>,
): Promise<{ elapsed: number; failures: number }> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let failures = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, slot) => {
      for (let round = 0; performance.now() < deadline; round++) {
        if (!(await once(slot, round))) {
          failures++;
          await sleep(10);
        }
      }
    }),
  );
  return { elapsed: (performance.now() - start) / 1000, failures };
}

/** Which account a slot uses on a round: each slot walks its own run. */
function pick(slot: number, round: number, clients: number): number {
  return 1 + ((slot * Math.floor(ACCOUNTS / clients) + round) % ACCOUNTS);
}

/** One run of ours at `clients`; validations per second. */
async function runOurs(
  module: Server,
  socket: string,
  clients: number,
  seconds: number,
): Promise<{ rate: number; failures: number }> {
  const before = module.accepted();
  const { elapsed, failures } = await slots(
    clients,
    seconds,
    async (slot, round) => {
      const i = pick(slot, round, clients);
      return (await exitCode(REF_BENCHCLIENT, [
        String(CHUNK),
        `cvm-local:${socket}`,
        account(i),
        "",
        password(i),
      ])) === 0;
    },
  );
  await sleep(50); // the last log lines
  return { rate: (module.accepted() - before) / elapsed, failures };
}

/** One run of the baseline at `clients`; validations per second. */
async function runBaseline(
  slapd: Slapd,
  clients: number,
  seconds: number,
): Promise<{ rate: number; failures: number }> {
  let successes = 0;
  const { elapsed, failures } = await slots(
    clients,
    seconds,
    async (slot, round) => {
      const i = pick(slot, round, clients);
      const ok = (await exitCode(LDAPWHOAMI, [
        "-x",
        "-H",
        slapd.uri,
        "-D",
        `uid=${account(i)},${PEOPLE}`,
        "-w",
        password(i),
      ])) === 0;
      if (ok) successes++;
      return ok;
    },
  );
  return { rate: successes / elapsed, failures };
}

function missing(): string | undefined {
  for (const path of [...SLAPD_TOOLS, LDAPWHOAMI, REF_BENCHCLIENT]) {
    try {
      Deno.statSync(path);
    } catch {
      return `${path} is not installed`;
    }
  }
  return undefined;
}

/**
 * Runs the LDAP benchmark.
 *
 * @param plan Seconds per run and runs per cell.
 * @returns Baseline, bind mode and compare mode figures; or why it was skipped.
 */
export async function benchLdap(
  plan: Plan = FULL,
): Promise<LdapBenchFigures[] | string> {
  const why = missing() ??
    await ensureBuilt(`${ROOT}/dist/cvm-ldap-local`);
  if (why !== undefined) return why;
  const slapd = await startSlapd();
  const dir = Deno.makeTempDirSync({ prefix: "cvm-bench-ldap-" });
  const modules: Server[] = [];
  try {
    await loadAccounts(slapd);
    const common = {
      CVM_LDAP_URI: slapd.uri,
      CVM_LDAP_BASE: BASE,
    };
    const bind = await startModule(`${dir}/bind.sock`, {
      ...common,
      CVM_LDAP_BINDDN: SEARCHER_DN,
      CVM_LDAP_BINDPW: SEARCHER_PW,
    });
    modules.push(bind);
    const compare = await startModule(`${dir}/compare.sock`, {
      ...common,
      CVM_LDAP_AUTH: "compare",
      CVM_LDAP_BINDDN: READER_DN,
      CVM_LDAP_BINDPW: READER_PW,
    });
    modules.push(compare);
    const contestants = [
      {
        name: "ldapwhoami -x -D DN -w PASSWORD (baseline)",
        run: (clients: number, seconds: number) =>
          runBaseline(slapd, clients, seconds),
      },
      {
        name: "cvm-ldap-local, CVM_LDAP_AUTH=bind",
        run: (clients: number, seconds: number) =>
          runOurs(bind, `${dir}/bind.sock`, clients, seconds),
      },
      {
        name: "cvm-ldap-local, CVM_LDAP_AUTH=compare",
        run: (clients: number, seconds: number) =>
          runOurs(compare, `${dir}/compare.sock`, clients, seconds),
      },
    ];
    // Warm up: connections, pools, the JIT.
    for (const c of contestants) await c.run(4, 0.3);
    const figures = contestants.map((c) => ({
      name: c.name,
      oneRuns: [] as number[],
      sixteenRuns: [] as number[],
      failures: 0,
    }));
    for (let r = 0; r < plan.repeats; r++) {
      for (const clients of [1, 16]) {
        for (const [k, c] of contestants.entries()) {
          const { rate, failures } = await c.run(clients, plan.seconds);
          (clients === 1 ? figures[k].oneRuns : figures[k].sixteenRuns).push(
            rate,
          );
          figures[k].failures += failures;
        }
      }
    }
    return figures.map((f) => ({
      ...f,
      one: median(f.oneRuns),
      sixteen: median(f.sixteenRuns),
    }));
  } finally {
    for (const m of modules) await m.stop();
    await slapd.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

function rate(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * Formats the figures as a table, with each mode's ratio to the baseline.
 *
 * @param result The figures, or why the bench was skipped.
 * @param plan How they were measured.
 * @returns The report text.
 */
export function formatLdapTable(
  result: LdapBenchFigures[] | string,
  plan: Plan = FULL,
): string {
  const title =
    `cvm-ldap over a local socket vs ldapwhoami in a loop, slapd on loopback, ${ACCOUNTS} {SSHA} accounts ` +
    `(validations/s, median of ${plan.repeats} runs of ${plan.seconds} s)`;
  if (typeof result === "string") return `${title}\nskipped: ${result}\n`;
  const baseline = result[0];
  const rows = [
    [
      "",
      "1 client/s",
      "16 clients/s",
      "x baseline @1",
      "x baseline @16",
      "failed runs",
    ],
    ...result.map((f) => [
      f.name,
      rate(f.one),
      rate(f.sixteen),
      (f.one / baseline.one).toFixed(2),
      (f.sixteen / baseline.sixteen).toFixed(2),
      String(f.failures),
    ]),
  ];
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((row) => row[c].length))
  );
  const lines = rows.map((row) =>
    row.map((cell, c) =>
      c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
    ).join("  ")
  );
  const runs = result.map((f) =>
    `${f.name}: @1 ${f.oneRuns.map(rate).join(", ")}; @16 ${
      f.sixteenRuns.map(rate).join(", ")
    }`
  );
  return [title, ...lines, "runs:", ...runs, ""].join("\n");
}

if (import.meta.main) {
  const plan = Deno.args.includes("--quick") ? QUICK : FULL;
  console.log(formatLdapTable(await benchLdap(plan), plan));
}

/**
 * The entry `deno task bench` calls: runs the full LDAP benchmark and
 * prints its table.
 *
 * @returns Nothing; the report is printed.
 */
export default async function runLdapBench(): Promise<void> {
  console.log("\n" + formatLdapTable(await benchLdap()));
}
