/**
 * The test-case format of the upstream cvm sources (bglibs' test
 * generator): one file per test under `tests/`, a shell body, then one or
 * more `<result …>` sections with the expected output. Directives at the
 * top:
 *
 * - `<loop NAME VALUE…>`: the test runs once per value (several loops
 *   multiply), with `$NAME` set; `<result V1 V2…>` then holds the output
 *   for that combination of values, in the order of the loops.
 * - `<asserts F>`, `<requires F>`, `<retracts F>`: a test that sets up a
 *   fact (starts a server), the tests that need it, the one that tears it
 *   down. They run as one group, in that order.
 *
 * This file only reads the format; `upstream_tests.ts` runs it.
 *
 * @module
 */

/** One test file. */
export interface UpstreamTest {
  /** The file name, e.g. "pwfile-local". */
  name: string;
  /** The shell body. */
  body: string;
  /** The loop variables and their values, in order. */
  loops: { name: string; values: string[] }[];
  /** Expected output by result key (the loop values joined by NUL; "" with no loops). */
  results: Map<string, string>;
  /** The fact this test sets up, needs, or tears down. */
  asserts?: string;
  requires?: string;
  retracts?: string;
}

/** One run of a test: the loop values bound, the expected output. */
export interface UpstreamCase {
  /** The test. */
  test: UpstreamTest;
  /** The loop values, in the order of the loops. */
  values: string[];
  /** The case's name: the test's, then its values (`''` for empty). */
  label: string;
  /** The expected output (before the harness's substitutions), without trailing newlines. */
  expected: string;
}

/**
 * Splits a directive's arguments as the shell would split simple words:
 * single and double quotes group, `''` is the empty word.
 *
 * @param text The arguments.
 * @returns The words.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellWords } from "./_upstream_cases.ts";
 * assert.deepEqual(shellWords("dom1 '' @test.tld"), ["dom1", "", "@test.tld"]);
 * ```
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${text}`);
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const DIRECTIVE = /^<(loop|asserts|requires|retracts|result)(?:\s+(.*))?>$/;

/**
 * Reads one test file.
 *
 * @param name The file name.
 * @param text Its contents.
 * @returns The test.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUpstreamTest } from "./_upstream_cases.ts";
 * const t = parseUpstreamTest("x", "<loop v a b>\necho $v\n<result a>\na\n<result b>\nb\n");
 * assert.equal(t.results.get("b"), "b\n");
 * ```
 */
export function parseUpstreamTest(name: string, text: string): UpstreamTest {
  const test: UpstreamTest = { name, body: "", loops: [], results: new Map() };
  const body: string[] = [];
  let result: string[] | undefined;
  let key = "";
  const close = () => {
    if (result !== undefined) test.results.set(key, result.join(""));
  };
  for (const line of text.split(/(?<=\n)/)) {
    const directive = DIRECTIVE.exec(line.replace(/\n$/, ""));
    if (directive === null) {
      (result ?? body).push(line);
      continue;
    }
    const [, kind, args = ""] = directive;
    if (kind === "result") {
      close();
      result = [];
      key = shellWords(args).join("\0");
    } else if (kind === "loop") {
      const [loopName, ...values] = shellWords(args);
      test.loops.push({ name: loopName, values });
    } else {
      test[kind as "asserts" | "requires" | "retracts"] = args.trim();
    }
  }
  close();
  test.body = body.join("");
  return test;
}

/** Every combination of loop values, the first loop varying slowest. */
function combinations(loops: UpstreamTest["loops"]): string[][] {
  let out: string[][] = [[]];
  for (const loop of loops) {
    out = out.flatMap((prefix) => loop.values.map((v) => [...prefix, v]));
  }
  return out;
}

/**
 * The cases of a test: one per combination of loop values, each with its
 * expected output (without its trailing newlines: blank lines separate the
 * sections, so the harness compares outputs without them).
 *
 * @param test The test.
 * @returns The cases.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUpstreamTest, upstreamCases } from "./_upstream_cases.ts";
 * const t = parseUpstreamTest("x", "<loop v a ''>\necho $v\n<result a>\na\n\n<result ''>\n\n");
 * assert.deepEqual(upstreamCases(t).map((c) => c.label), ["x a", "x ''"]);
 * ```
 */
export function upstreamCases(test: UpstreamTest): UpstreamCase[] {
  return combinations(test.loops).map((values) => {
    const expected = test.results.get(values.join("\0"));
    if (expected === undefined) {
      throw new Error(`${test.name}: no <result> for ${values.join(" ")}`);
    }
    return {
      test,
      values,
      label: [test.name, ...values.map((v) => v === "" ? "''" : v)].join(" "),
      expected: expected.replace(/\n+$/, ""),
    };
  });
}

/**
 * The order the tests run in: by name, except that the tests of a fact run
 * together where the first of them would, the one asserting it first and
 * the one retracting it last (two servers may share files, so their groups
 * must not overlap).
 *
 * @param tests The tests, any order.
 * @returns The tests in running order.
 * @example
 * ```ts
 * import { orderUpstreamTests, parseUpstreamTest } from "./_upstream_cases.ts";
 * const t = (name: string, head: string) => parseUpstreamTest(name, `${head}\n<result>\n`);
 * import assert from "node:assert/strict";
 * const ordered = orderUpstreamTests([t("a-use", "<requires f>"), t("b", ""), t("start", "<asserts f>"),
 *   t("stop", "<retracts f>"), t("z-use", "<requires f>")]);
 * assert.deepEqual(ordered.map((x) => x.name), ["start", "a-use", "z-use", "stop", "b"]);
 * ```
 */
export function orderUpstreamTests(tests: UpstreamTest[]): UpstreamTest[] {
  const sorted = [...tests].sort((a, b) => a.name < b.name ? -1 : 1);
  const fact = (t: UpstreamTest) => t.asserts ?? t.requires ?? t.retracts;
  const out: UpstreamTest[] = [];
  const placed = new Set<string>();
  for (const test of sorted) {
    const f = fact(test);
    if (f === undefined) {
      out.push(test);
      continue;
    }
    if (placed.has(f)) continue;
    placed.add(f);
    const group = sorted.filter((t) => fact(t) === f);
    out.push(
      ...group.filter((t) => t.asserts === f),
      ...group.filter((t) => t.requires === f),
      ...group.filter((t) => t.retracts === f),
    );
  }
  return out;
}
