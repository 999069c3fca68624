/**
 * The reader of upstream's test-case format: shell words in directives,
 * loops and their result sections, and the order that keeps a server's
 * cases together.
 */

import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  orderUpstreamTests,
  parseUpstreamTest,
  shellWords,
  upstreamCases,
} from "../../scripts/_upstream_cases.ts";

Deno.test("shellWords() splits at blanks and keeps quoted words, '' included", () => {
  assertEquals(shellWords("addr user user-addr"), [
    "addr",
    "user",
    "user-addr",
  ]);
  assertEquals(shellWords("dom1 '' @test.tld"), ["dom1", "", "@test.tld"]);
  assertEquals(shellWords(`a"b c"d  'e'`), ["ab cd", "e"]);
  assertEquals(shellWords(""), []);
  throws(() => shellWords("'open"), /unterminated/);
});

Deno.test("parseUpstreamTest() and upstreamCases() give one case per combination of loop values", () => {
  const test = parseUpstreamTest(
    "split",
    [
      "<loop dom1 '' @t>",
      "<loop dom2 '' t>",
      "echo $dom1 $dom2",
      "",
      "<result '' ''>",
      "none",
      "",
      "<result '' t>",
      "t",
      "<result @t ''>",
      "<result @t t>",
      "\\$both",
      "",
      "",
    ].join("\n"),
  );
  assertEquals(test.body, "echo $dom1 $dom2\n\n");
  assertEquals(test.loops.map((l) => l.name), ["dom1", "dom2"]);
  const cases = upstreamCases(test);
  assertEquals(cases.map((c) => c.label), [
    "split '' ''",
    "split '' t",
    "split @t ''",
    "split @t t",
  ]);
  // Trailing blank lines separate sections; they are not output.
  assertEquals(cases.map((c) => c.expected), ["none", "t", "", "\\$both"]);
  assertEquals(cases[3].values, ["@t", "t"]);
});

Deno.test("parseUpstreamTest() reads asserts, requires and retracts; a missing result is an error", () => {
  const test = parseUpstreamTest(
    "pwfile-local",
    "<requires pwfile-local>\nmake_pwfile\n<result>\n+ pwfuser\n",
  );
  assertEquals(test.requires, "pwfile-local");
  assertEquals(upstreamCases(test)[0].expected, "+ pwfuser");
  const noResult = parseUpstreamTest("x", "<loop v a b>\n<result a>\n");
  throws(() => upstreamCases(noResult), /no <result> for b/);
});

Deno.test("orderUpstreamTests() runs by name, a fact's tests together: asserting, requiring, retracting", () => {
  const t = (name: string, head = "") =>
    parseUpstreamTest(name, `${head}\ntrue\n<result>\n`);
  const order = orderUpstreamTests([
    t("v1udp", "<requires udp>"),
    t("v1local", "<requires local>"),
    t("stop-local", "<retracts local>"),
    t("start-udp", "<asserts udp>"),
    t("pwfile-local", "<requires local>"),
    t("pwfile-udp", "<requires udp>"),
    t("start-local", "<asserts local>"),
    t("stop-udp", "<retracts udp>"),
    t("chain"),
    t("sasl"),
  ]).map((x) => x.name);
  assertEquals(order, [
    "chain",
    "start-local",
    "pwfile-local",
    "v1local",
    "stop-local",
    "start-udp",
    "pwfile-udp",
    "v1udp",
    "stop-udp",
    "sasl",
  ]);
});
