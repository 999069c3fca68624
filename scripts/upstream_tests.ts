/**
 * Runs the upstream cvm project's own test suite (the `tests/` directory
 * and `tests.inc` of Bruce Guenter's cvm sources) against a directory of
 * programs, the way its generated `tests.sh` does, and reports each case.
 *
 * ```sh
 * deno task upstream                 # ours (dist/) and the reference (/usr/bin)
 * deno task upstream --json          # the same as JSON
 * ```
 *
 * Where the tests come from: `$CVM_UPSTREAM_TESTS`, a directory holding
 * `tests/` and `tests.inc` (an upstream checkout); else the git directory
 * `$CVM_UPSTREAM_GIT` (default: this workplace's read-only mirror), from
 * which they are extracted to a temporary directory with `git archive`.
 * Nothing upstream is kept in this repository.
 *
 * How a case runs, as upstream's harness does: `tests.inc` is sourced once
 * (it makes a passwd file, users/cdb, control files, vmailmgr's
 * passwd.cdb in a fresh temporary directory), each case's body runs in a
 * subshell with stdout and stderr together, its output goes through
 * `cat -v`, and is compared with the expected text after `@TMPDIR@`,
 * `@UID@`, `@GID@` and `@SOURCE@` are replaced (trailing blank lines
 * aside). Files persist from case to case; servers started by an
 * `<asserts>` case serve the cases that `<require>` them. A case whose
 * programs are missing from the directory (Debian ships no
 * `sasl-auth-test`, `cvm-sqlite` or `sql-query-test`) is not run.
 * `cdbmake` and `cdbget` are taken from PATH, or made from tinycdb's `cdb`.
 * Upstream's `sleep 1` waits for a server started in the background (or
 * stopping): for the reference and ours alike, a `sleep` on PATH makes it
 * three times as long, since a loaded shared machine can take more than a
 * second to start a Deno program.
 * Started as root, the suite runs as `$CVM_UPSTREAM_USER` (default
 * `nobody`), as upstream's is meant to: root reads a mode-000 file, and two
 * cases check that nobody else can. The passwd file `tests.inc` describes
 * is made once at the start: the chain cases read it without making it
 * (in upstream's own runs an earlier case leaves one behind).
 *
 * @module
 */

import {
  orderUpstreamTests,
  parseUpstreamTest,
  type UpstreamCase,
  upstreamCases,
} from "./_upstream_cases.ts";

/** The outcome of one case for one directory of programs. */
export interface CaseOutcome {
  /** The case, e.g. "qmail-lookup user-addr local.dom". */
  label: string;
  /** pass, fail, or skip (a program it needs is not there). */
  status: "pass" | "fail" | "skip";
  /** For a skip, what is missing; for a failure, the differing lines. */
  detail?: string;
}

/** Where the upstream tests are: a directory with tests/ and tests.inc. */
export interface UpstreamTests {
  /** The directory. */
  dir: string;
  /** Removes it when it was extracted for this run. */
  cleanup(): void;
}

/** The read-only mirror of the upstream sources on this workplace. */
const DEFAULT_GIT = "/work/.mirror/bruceg+cvm/repo";

/**
 * Finds the upstream tests (see the module text), extracting them from a
 * git directory when needed.
 *
 * @param env The environment.
 * @returns Where they are, or a sentence saying why there are none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findUpstreamTests } from "./upstream_tests.ts";
 * const found = await findUpstreamTests({ CVM_UPSTREAM_TESTS: "/nonexistent" });
 * assert.equal(typeof found === "string", true); // no tests there
 * ```
 */
export async function findUpstreamTests(
  env: Record<string, string | undefined>,
): Promise<UpstreamTests | string> {
  const checkout = env.CVM_UPSTREAM_TESTS;
  if (checkout !== undefined) {
    if (!isFile(`${checkout}/tests.inc`)) {
      return `$CVM_UPSTREAM_TESTS (${checkout}) holds no tests.inc`;
    }
    return { dir: checkout, cleanup: () => {} };
  }
  const git = env.CVM_UPSTREAM_GIT ?? DEFAULT_GIT;
  if (!isFile(`${git}/HEAD`)) {
    return `no upstream tests: set $CVM_UPSTREAM_TESTS to a cvm checkout or $CVM_UPSTREAM_GIT to its git directory (${git} is not one)`;
  }
  const dir = Deno.makeTempDirSync({ prefix: "cvm-upstream-" });
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      'set -o pipefail; git --git-dir="$0" archive HEAD tests tests.inc | tar -x -C "$1"',
      git,
      dir,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    Deno.removeSync(dir, { recursive: true });
    return `cannot extract the tests from ${git}: ${
      new TextDecoder().decode(out.stderr).trim()
    }`;
  }
  return { dir, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Quotes a word for bash. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The programs of the tested directory that a text runs (`$src/NAME`). */
function programsIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\$src\/([\w.+-]+)/g)].map((m) => m[1]));
}

/**
 * The programs a case needs: those its body runs, and those of the
 * tests.inc functions it calls.
 */
function programsNeeded(body: string, include: string): Set<string> {
  const needed = programsIn(body);
  for (const fn of include.matchAll(/^(\w+)\(\)\s*\{([\s\S]*?)^\}/gm)) {
    if (new RegExp(`(^|[\\s;|&(])${fn[1]}\\b`, "m").test(body)) {
      for (const p of programsIn(fn[2])) needed.add(p);
    }
  }
  return needed;
}

/**
 * Puts a `sleep` that waits three times as long first on the cases' PATH
 * (GNU sleep adds its arguments): upstream's one-second waits for a
 * background server are too short on a loaded machine.
 */
function slowSleepShim(dir: string): void {
  Deno.writeTextFileSync(
    `${dir}/sleep`,
    '#!/bin/sh\nexec /bin/sleep "$@" "$@" "$@"\n',
  );
  Deno.chmodSync(`${dir}/sleep`, 0o755);
}

/** Makes `cdbmake` and `cdbget` from tinycdb's `cdb` when PATH has none. */
function cdbShims(dir: string): void {
  const onPath = (name: string) =>
    (Deno.env.get("PATH") ?? "").split(":").some((p) => isFile(`${p}/${name}`));
  const shims: Record<string, string> = {
    // cdbmake FILE TEMP reads cdbmake records on stdin.
    cdbmake: 'exec cdb -c -t "$2" "$1"',
    // cdbget KEY reads the database on stdin.
    cdbget: 'exec cdb -q /dev/stdin "$1"',
  };
  for (const [name, body] of Object.entries(shims)) {
    if (onPath(name)) continue;
    Deno.writeTextFileSync(`${dir}/${name}`, `#!/bin/sh\n${body}\n`);
    Deno.chmodSync(`${dir}/${name}`, 0o755);
  }
}

/** The bash script running the runnable cases, numbered in order. */
function suiteScript(
  include: string,
  runnable: UpstreamCase[],
  paths: { src: string; tmp: string; out: string; shims: string },
): string {
  const lines = [
    "#!/bin/bash",
    `src=${quote(paths.src)}`,
    `tmp=${quote(paths.tmp)}`,
    `out=${quote(paths.out)}`,
    `PATH=${quote(paths.shims)}:"$src:/bin:/usr/bin:/usr/local/bin"`,
    "export PATH",
    "_UID=`id -u`",
    "_GID=`id -g`",
    'cd "$tmp"',
    include,
    // chain-client and chain-module read the passwd file without making
    // it: in upstream's own runs an earlier case has left one behind.
    "make_pwfile",
    "run_case() {",
    "  local n=$1",
    "  shift",
    '  sed -e "s:@SOURCE@:$src:g" -e "s:@TMPDIR@:$tmp:g" \\',
    '      -e "s:@UID@:$_UID:" -e "s:@GID@:$_GID:" >"$out/$n.expected"',
    '  ( runtest "$@" 2>&1 ) >"$out/$n.raw" 2>&1 </dev/null',
    '  cat -v "$out/$n.raw" >"$out/$n.actual"',
    "}",
  ];
  runnable.forEach((c, n) => {
    const locals = c.test.loops.map((loop, i) =>
      `local ${loop.name}="$${i + 1}"`
    );
    lines.push(
      `# ${c.label}`,
      "runtest() {",
      ...locals,
      c.test.body,
      ":",
      "}",
      // An unquoted here-document, as upstream's: \$ in the expected text
      // is a dollar sign.
      `run_case ${n} ${c.values.map(quote).join(" ")} <<END_OF_TEST_RESULTS`,
      c.expected,
      "END_OF_TEST_RESULTS",
    );
  });
  return lines.join("\n") + "\n";
}

/** The lines that differ, expected (-) and actual (+), at most a few. */
function differingLines(expected: string, actual: string): string {
  const e = expected.split("\n");
  const a = actual.split("\n");
  const out: string[] = [];
  for (let i = 0; i < Math.max(e.length, a.length) && out.length < 12; i++) {
    if (e[i] === a[i]) continue;
    if (e[i] !== undefined) out.push(`- ${e[i]}`);
    if (a[i] !== undefined) out.push(`+ ${a[i]}`);
  }
  return out.join("\n");
}

/**
 * Runs every upstream case against one directory of programs.
 *
 * @param testsDir A directory holding `tests/` and `tests.inc`.
 * @param src The programs' directory (e.g. dist/ or /usr/bin).
 * @param options How long the whole suite may take (default 10 minutes);
 *   as whom it runs when started as root (default `$CVM_UPSTREAM_USER`, else
 *   `nobody`).
 * @returns One outcome per case, in running order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runUpstreamSuite } from "./upstream_tests.ts";
 * // A one-case suite in the upstream layout (the real one takes minutes).
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/tests`);
 * Deno.writeTextFileSync(`${dir}/tests.inc`, "");
 * Deno.writeTextFileSync(`${dir}/tests/echo`, "echo hello\n<result>\nhello\n");
 * try {
 *   const outcomes = await runUpstreamSuite(dir, "/usr/bin");
 *   assert.deepEqual(outcomes.map((o) => o.status), ["pass"]);
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export async function runUpstreamSuite(
  testsDir: string,
  src: string,
  options: { timeoutMs?: number; user?: string } = {},
): Promise<CaseOutcome[]> {
  const include = Deno.readTextFileSync(`${testsDir}/tests.inc`);
  const tests = [...Deno.readDirSync(`${testsDir}/tests`)]
    .filter((e) => e.isFile)
    .map((e) =>
      parseUpstreamTest(
        e.name,
        Deno.readTextFileSync(`${testsDir}/tests/${e.name}`),
      )
    );
  const cases = orderUpstreamTests(tests).flatMap(upstreamCases);
  const missing = (c: UpstreamCase) =>
    [...programsNeeded(c.test.body, include)].filter((p) =>
      !isFile(`${src}/${p}`)
    );
  const runnable = cases.filter((c) => missing(c).length === 0);
  const work = Deno.makeTempDirSync({ prefix: "cvm-upstream-run-" });
  const paths = {
    src,
    tmp: `${work}/tmp`,
    out: `${work}/out`,
    shims: `${work}/bin`,
  };
  for (const dir of [paths.tmp, paths.out, paths.shims]) Deno.mkdirSync(dir);
  cdbShims(paths.shims);
  slowSleepShim(paths.shims);
  Deno.writeTextFileSync(
    `${work}/suite.sh`,
    suiteScript(include, runnable, paths),
  );
  // The suite runs as an ordinary user: root reads files whatever their
  // mode, and two cases check that a mode-000 file cannot be read.
  const user = Deno.uid() === 0
    ? options.user ?? Deno.env.get("CVM_UPSTREAM_USER") ?? "nobody"
    : undefined;
  const home = `${work}/home`;
  Deno.mkdirSync(home);
  const env: Record<string, string> = { HOME: home, LC_ALL: "C" };
  const denoDir = Deno.env.get("DENO_DIR");
  let gid = "";
  if (user !== undefined) {
    const id = await new Deno.Command("id", { args: ["-g", user] }).output();
    gid = new TextDecoder().decode(id.stdout).trim();
    if (!id.success || gid === "") throw new Error(`no such user: ${user}`);
    // Deno's cache under /root is out of reach: ours gets one of its own.
    env.DENO_DIR = `${home}/deno`;
    const owner = await new Deno.Command("chown", {
      args: ["-R", `${user}:`, work],
      stderr: "piped",
    }).output();
    if (!owner.success) {
      throw new Error(
        `chown ${user}: ${new TextDecoder().decode(owner.stderr).trim()}`,
      );
    }
  } else if (denoDir !== undefined) {
    env.DENO_DIR = denoDir;
  }
  const command = user === undefined ? ["bash", `${work}/suite.sh`] : [
    "setpriv",
    `--reuid=${user}`,
    `--regid=${gid}`,
    "--clear-groups",
    "bash",
    `${work}/suite.sh`,
  ];
  let timedOut = false;
  try {
    // A session of its own, so that the servers the cases start in the
    // background are ended with it, whatever the cases do.
    const child = new Deno.Command("setsid", {
      args: command,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs ?? 600_000);
    await child.status;
    clearTimeout(timer);
    killGroup(child.pid);
    const index = new Map(runnable.map((c, n) => [c, n]));
    return cases.map((c): CaseOutcome => {
      const n = index.get(c);
      if (n === undefined) {
        return {
          label: c.label,
          status: "skip",
          detail: `not in ${src}: ${missing(c).join(", ")}`,
        };
      }
      let expected: string;
      let actual: string;
      try {
        expected = Deno.readTextFileSync(`${paths.out}/${n}.expected`);
        actual = Deno.readTextFileSync(`${paths.out}/${n}.actual`);
      } catch {
        return {
          label: c.label,
          status: "fail",
          detail: timedOut ? "the suite timed out" : "did not run",
        };
      }
      expected = expected.replace(/\n+$/, "");
      actual = actual.replace(/\n+$/, "");
      return expected === actual ? { label: c.label, status: "pass" } : {
        label: c.label,
        status: "fail",
        detail: differingLines(expected, actual),
      };
    });
  } finally {
    // The cases may leave files only their owner can remove (chmod 000).
    await new Deno.Command("chmod", { args: ["-R", "u+rwx", work] }).output();
    Deno.removeSync(work, { recursive: true });
  }
}

/** Ends every process of a session this runner started. */
function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch { /* already gone */ }
}

/** The outcomes of both directories, case by case. */
export interface SuiteComparison {
  /** Each case: the reference's and our outcome. */
  cases: { label: string; reference: CaseOutcome; ours: CaseOutcome }[];
  /** Cases the reference passes and ours does not. */
  regressions: string[];
}

/**
 * Counts outcomes.
 *
 * @param outcomes The outcomes.
 * @returns How many passed, failed, and were not run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countOutcomes } from "./upstream_tests.ts";
 * assert.deepEqual(countOutcomes([{ label: "a", status: "pass" }]), { pass: 1, fail: 0, skip: 0 });
 * ```
 */
export function countOutcomes(
  outcomes: CaseOutcome[],
): { pass: number; fail: number; skip: number } {
  const count = { pass: 0, fail: 0, skip: 0 };
  for (const o of outcomes) count[o.status]++;
  return count;
}

/**
 * Runs the suite against the reference's programs and ours, one after the
 * other (they share a UDP port), and pairs the outcomes.
 *
 * @param testsDir A directory holding `tests/` and `tests.inc`.
 * @param dirs The reference's programs and ours.
 * @returns The comparison.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareUpstreamSuite } from "./upstream_tests.ts";
 * // A one-case suite in the upstream layout (the real one takes minutes).
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/tests`);
 * Deno.writeTextFileSync(`${dir}/tests.inc`, "");
 * Deno.writeTextFileSync(`${dir}/tests/echo`, "echo hello\n<result>\nhello\n");
 * try {
 *   const { cases, regressions } = await compareUpstreamSuite(dir, { reference: "/usr/bin", ours: "/usr/bin" });
 *   assert.equal(cases.length, 1);
 *   assert.deepEqual(regressions, []);
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export async function compareUpstreamSuite(
  testsDir: string,
  dirs: { reference: string; ours: string },
): Promise<SuiteComparison> {
  const reference = await runUpstreamSuite(testsDir, dirs.reference);
  const ours = await runUpstreamSuite(testsDir, dirs.ours);
  const cases = reference.map((r, i) => ({
    label: r.label,
    reference: r,
    ours: ours[i],
  }));
  return {
    cases,
    regressions: cases.filter((c) =>
      c.reference.status === "pass" && c.ours.status !== "pass"
    ).map((c) => c.label),
  };
}

/**
 * The report: one line per case (reference, ours, case), the details of
 * every failure, and the totals.
 *
 * @param comparison The comparison.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatComparison } from "./upstream_tests.ts";
 * assert.equal(formatComparison({ cases: [], regressions: [] }).includes("reference:"), true);
 * ```
 */
export function formatComparison(comparison: SuiteComparison): string {
  const mark = { pass: "pass", fail: "FAIL", skip: "-   " } as const;
  const out = ["reference ours  case"];
  for (const c of comparison.cases) {
    out.push(
      `${mark[c.reference.status]}      ${mark[c.ours.status]}  ${c.label}`,
    );
  }
  for (const c of comparison.cases) {
    for (const [who, o] of [["reference", c.reference], ["ours", c.ours]]) {
      const outcome = o as CaseOutcome;
      if (outcome.status !== "fail") continue;
      out.push("", `${c.label} fails for ${who}:`, outcome.detail ?? "");
    }
  }
  const total = (o: CaseOutcome[]) => {
    const n = countOutcomes(o);
    return `${n.pass} passed, ${n.fail} failed, ${n.skip} not runnable`;
  };
  out.push(
    "",
    `${comparison.cases.length} cases`,
    `reference: ${total(comparison.cases.map((c) => c.reference))}`,
    `ours:      ${total(comparison.cases.map((c) => c.ours))}`,
    comparison.regressions.length === 0
      ? "every case the reference passes, ours passes"
      : `the reference passes, ours does not: ${
        comparison.regressions.join("; ")
      }`,
  );
  return out.join("\n");
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const tests = await findUpstreamTests(Deno.env.toObject());
  if (typeof tests === "string") {
    console.error(tests);
    Deno.exit(2);
  }
  let status = 2;
  try {
    if (!isFile(`${root}/dist/cvm-testclient`)) {
      await new Deno.Command("bash", {
        args: [`${root}/scripts/compile.sh`, "--launcher"],
        env: { DENO: Deno.execPath() },
      }).output();
    }
    const comparison = await compareUpstreamSuite(tests.dir, {
      reference: "/usr/bin",
      ours: `${root}/dist`,
    });
    console.log(
      Deno.args.includes("--json")
        ? JSON.stringify(comparison, null, 2)
        : formatComparison(comparison),
    );
    status = comparison.regressions.length === 0 ? 0 : 1;
  } finally {
    tests.cleanup();
  }
  Deno.exit(status);
}
