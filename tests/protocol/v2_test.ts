import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import {
  CvmError,
  encodeRequestV2,
  encodeResponse,
  encodeResponseV2,
  ErrorCode,
  parseRequest,
  parseResponseV2,
} from "../../protocol/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: Array<number[] | string>) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc(p)] : p));

Deno.test("encodeRequestV2() produces the manual's example packet byte for byte", () => {
  const packet = encodeRequestV2(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), [
    { type: 1, value: enc("username") },
    { type: 2, value: enc("localhost") },
    { type: 3, value: enc("password") },
  ]);
  assertEquals(
    Array.from(packet),
    Array.from(bytes(
      [2, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 8],
      "username",
      [2, 9],
      "localhost",
      [3, 8],
      "password",
      [0],
    )),
  );
});

Deno.test("parseRequest() reads a version 2 request round-trip", () => {
  const r = parseRequest(bytes([2, 2, 9, 9, 1, 3], "bob", [3, 2], "pw", [0]));
  assert.ok(r.ok);
  assertEquals(Array.from(r.value.random), [9, 9]);
  assertEquals(r.value.credentials.map((c) => c.type), [1, 3]);
});

const MALFORMED: Array<[string, Uint8Array]> = [
  ["an empty input", new Uint8Array(0)],
  ["a one-byte request", bytes([2])],
  ["an unknown version byte", bytes([3, 0, 0])],
  ["a random length running past the end", bytes([2, 40, 65, 66])],
  ["a tag without its length", bytes([2, 0, 1])],
  ["a length byte running past the end", bytes([2, 0, 1, 50], "bob", [0])],
  ["a missing final NUL", bytes([2, 0, 1, 3], "bob")],
  ["bytes after the final NUL", bytes([2, 0, 1, 3], "bob", [0, 88])],
  ["a credential given twice", bytes([2, 0, 1, 1], "a", [1, 1], "b", [0])],
  [
    "513 bytes",
    (() => {
      const b = new Uint8Array(513);
      b.set([2, 0, 1, 255]);
      return b;
    })(),
  ],
];

for (const [what, input] of MALFORMED) {
  Deno.test(`parseRequest() answers BAD_CLIDATA for ${what}`, () => {
    const r = parseRequest(input);
    assert.ok(!r.ok);
    assertEquals(r.code, ErrorCode.BAD_CLIDATA);
  });
}

Deno.test("encodeResponse() echoes the random bytes in a BAD_CLIDATA reply when they were readable", () => {
  const r = parseRequest(bytes([2, 2, 65, 66, 1, 3], "bob"));
  assert.ok(!r.ok);
  assertEquals(
    Array.from(
      encodeResponse(r.version, { code: r.code, random: r.random, facts: [] }),
    ),
    [2, 2, 65, 66, 0],
  );
});

Deno.test("encodeResponse() answers an unknown version with code and NUL, as the reference", () => {
  const r = parseRequest(bytes([7, 7]));
  assert.ok(!r.ok);
  assertEquals(
    Array.from(
      encodeResponse(r.version, { code: r.code, random: r.random, facts: [] }),
    ),
    [2, 0],
  );
});

Deno.test("encodeResponseV2() drops every fact but out-of-scope from a failure", () => {
  const out = encodeResponseV2({
    code: 100,
    random: new Uint8Array(0),
    facts: [{ type: 1, value: enc("x") }, { type: 16, value: enc("1") }],
  });
  assertEquals(Array.from(out), [100, 0, 16, 1, 49, 0]);
});

Deno.test("encodeResponseV2() refuses facts that do not fit in 512 bytes", () => {
  const big = { type: 4, value: new Uint8Array(255) };
  assert.throws(
    () =>
      encodeResponseV2({
        code: 0,
        random: new Uint8Array(0),
        facts: [big, big, big],
      }),
    (e) => e instanceof CvmError && e.code === ErrorCode.BAD_MODDATA,
  );
});

Deno.test("encodeRequestV2() refuses a value over 255 bytes", () => {
  assert.throws(
    () =>
      encodeRequestV2(new Uint8Array(0), [{
        type: 3,
        value: new Uint8Array(256),
      }]),
    (e) => e instanceof CvmError && e.code === ErrorCode.BAD_CLIDATA,
  );
});

Deno.test("parseResponseV2() reads a success with its facts", () => {
  const r = parseResponseV2(
    bytes([0, 1, 7, 1, 1], "a", [0]),
    new Uint8Array([7]),
  );
  assert.ok(r.ok);
  assertEquals(r.value.code, 0);
  assertEquals(r.value.facts.length, 1);
});

const BAD_REPLIES: Array<[string, Uint8Array, number[]]> = [
  ["an empty reply", new Uint8Array(0), []],
  ["a wrong random echo", bytes([0, 1, 8, 0]), [7]],
  ["a random of the wrong length", bytes([0, 0, 0]), [7]],
  ["a success without final NUL", bytes([0, 0, 1, 1], "a"), []],
  [
    "a success with bytes after the final NUL",
    bytes([0, 0, 1, 1], "a", [0, 0]),
    [],
  ],
  ["a fact length running past the end", bytes([0, 0, 1, 9], "a", [0]), []],
  ["513 bytes", new Uint8Array(513), []],
];

for (const [what, reply, random] of BAD_REPLIES) {
  Deno.test(`parseResponseV2() gives BAD_MODDATA for ${what}`, () => {
    const r = parseResponseV2(reply, new Uint8Array(random));
    assert.ok(!r.ok);
    assertEquals(r.code, ErrorCode.BAD_MODDATA);
  });
}

Deno.test("parseResponseV2() keeps a failure's code even when its facts are malformed", () => {
  const r = parseResponseV2(bytes([100, 0]), new Uint8Array(0));
  assert.ok(r.ok);
  assertEquals(r.value.code, 100);
  assertEquals(r.value.facts, []);
});
