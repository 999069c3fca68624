import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import {
  CvmError,
  encodeRequestV1,
  encodeResponseV1,
  ErrorCode,
  parseRequest,
  parseResponseV1,
} from "../../protocol/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: Array<number[] | string>) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc(p)] : p));

Deno.test("encodeRequestV1() lays out account, domain, credential and the extra NUL", () => {
  assertEquals(
    Array.from(encodeRequestV1(enc("bob"), enc(""), [enc("pw")])),
    Array.from(bytes([1], "bob", [0, 0], "pw", [0, 0])),
  );
});

Deno.test("encodeRequestV1() refuses a NUL inside a value", () => {
  assert.throws(
    () => encodeRequestV1(bytes("a", [0], "b"), enc(""), []),
    (e) => e instanceof CvmError && e.code === ErrorCode.BAD_CLIDATA,
  );
});

Deno.test("parseRequest() reads a version 1 request with domain and password", () => {
  const r = parseRequest(bytes([1], "bob", [0], "x.org", [0], "pw", [0, 0]));
  assert.ok(r.ok);
  assertEquals(r.value.version, 1);
  assertEquals(
    r.value.credentials.map((c) => [c.type, new TextDecoder().decode(c.value)]),
    [[1, "bob"], [2, "x.org"], [3, "pw"]],
  );
});

Deno.test("parseRequest() reads a version 1 request without credential", () => {
  const r = parseRequest(bytes([1], "bob", [0, 0, 0]));
  assert.ok(r.ok);
  assertEquals(r.value.credentials.map((c) => c.type), [1]);
});

const MALFORMED: Array<[string, Uint8Array]> = [
  ["a lone version byte", bytes([1])],
  ["a missing final NUL", bytes([1], "bob", [0, 0], "pw", [0])],
  ["bytes after the final NUL", bytes([1], "bob", [0, 0], "pw", [0, 0], "zz")],
  ["two credentials", bytes([1], "bob", [0, 0], "p1", [0], "p2", [0, 0])],
  ["an unterminated account", bytes([1], "bob")],
  [
    "513 bytes",
    (() => {
      const b = new Uint8Array(513).fill(97);
      b[0] = 1;
      return b;
    })(),
  ],
];

for (const [what, input] of MALFORMED) {
  Deno.test(`parseRequest() answers BAD_CLIDATA to version 1 with ${what}`, () => {
    const r = parseRequest(input);
    assert.ok(!r.ok);
    assertEquals(r.code, ErrorCode.BAD_CLIDATA);
    assertEquals(r.version, 1);
  });
}

Deno.test("encodeResponseV1() matches the reference for a success and a failure", () => {
  assertEquals(
    Array.from(encodeResponseV1({
      code: 0,
      random: new Uint8Array(0),
      facts: [{ type: 1, value: enc("Bob") }, { type: 4, value: enc("") }],
    })),
    Array.from(bytes([0, 1], "Bob", [0, 4, 0, 0])),
  );
  assertEquals(
    Array.from(encodeResponseV1({
      code: 100,
      random: new Uint8Array(0),
      facts: [{ type: 16, value: enc("1") }],
    })),
    [100, 16, 49, 0, 0],
  );
});

Deno.test("parseResponseV1() reads facts and rejects a success missing its final NUL", () => {
  const ok = parseResponseV1(bytes([0, 1], "Bob", [0, 0]));
  assert.ok(ok.ok);
  assertEquals(ok.value.facts.length, 1);
  const bad = parseResponseV1(bytes([0, 1], "Bob", [0]));
  assert.ok(!bad.ok);
  assertEquals(bad.code, ErrorCode.BAD_MODDATA);
  const trailing = parseResponseV1(bytes([0, 1], "Bob", [0, 0, 5]));
  assert.ok(!trailing.ok);
});
