/**
 * cvm-pwfile's compact index: each name's first valid line, found by its
 * bytes with A–Z folded, parsed only when asked for, with its facts
 * encoded once; command mode's scan finds the same line.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { findPasswd, indexPasswd } from "../../modules/pwfile.ts";
import { findLine, nameKey, PasswdIndex } from "../../modules/_pwfile_index.ts";
import { createPwfileBackend } from "../../modules/pwfile.ts";
import { toModuleRequest } from "../../modules/runtime/backend.ts";
import { tempDir } from "../_helpers.ts";

const enc = (text: string) => new TextEncoder().encode(text);

const FILE = [
  "# a comment",
  "",
  "bad:pw:abc:100::/h:/bin/sh",
  "short:pw:1:2::/h",
  ":pw:1:2::/h:",
  "Bob:first:1000:100:Bob B,,:/home/bob:/bin/sh",
  "bob:second:1001:100::/home/bob2:/bin/sh",
  "bad:ok:7:8::/h:",
  "\u212Aate:kelvin:9:9::/k:",
  "",
].join("\n");

Deno.test("indexPasswd() finds each name's first valid line, any case of A–Z, and skips malformed ones", () => {
  const index = indexPasswd(enc(FILE));
  assertEquals(index.size, 3);
  assertEquals(index.find(enc("BOB"))?.password, "first");
  assertEquals(index.find(enc("bad"))?.uid, 7);
  assertEquals(index.find(enc("short")), undefined);
  assertEquals(index.find(enc("")), undefined);
  assertEquals(index.find(enc("# a comment")), undefined);
});

Deno.test("indexPasswd() folds ASCII only: a Kelvin sign is not k, and names match as bytes", () => {
  const index = indexPasswd(enc(FILE));
  assertEquals(index.find(enc("kate")), undefined);
  assertEquals(index.find(enc("\u212Aate"))?.password, "kelvin");
  assertEquals(index.find(enc("\u212AATE"))?.password, "kelvin");
  const raw = new Uint8Array([0xff, ...enc(":x:1:2::/h:\n")]);
  const bytes = indexPasswd(raw);
  assertEquals(bytes.find(new Uint8Array([0xff]))?.uid, 1);
  assertEquals(bytes.find(enc("\ufffd")), undefined);
});

Deno.test("nameKey() is the name's bytes with A–Z folded, one latin1 character a byte", () => {
  assertEquals(nameKey(enc("Bob@Example.COM")), "bob@example.com");
  assertEquals(nameKey(enc("é")), "\u00c3\u00a9");
  assertEquals(nameKey(enc("x".repeat(5000))).length, 5000);
});

Deno.test("PasswdIndex parses a line when asked for, once, and keeps it", () => {
  let parsed = 0;
  const index = new PasswdIndex(enc(FILE), (line) => {
    parsed++;
    return { line };
  });
  assertEquals(parsed, 0);
  const first = index.find(enc("bob"));
  const again = index.find(enc("BOB"));
  assertEquals(parsed, 1);
  assertEquals(first === again, true);
  assertEquals([...index.entries()].map((e) => e.line.split(":")[0]), [
    "Bob",
    "bad",
    "\u212Aate",
  ]);
});

Deno.test("findPasswd() and findLine() (command mode's scan) find the line the index finds", () => {
  assertEquals(findPasswd(enc(FILE), "BOB")?.password, "first");
  assertEquals(findPasswd(enc(FILE), "kate"), undefined);
  assertEquals(
    new TextDecoder().decode(findLine(enc(FILE), enc("BAD"))),
    "bad:ok:7:8::/h:",
  );
  assertEquals(findLine(enc(FILE), enc("nobody")), undefined);
});

Deno.test("cvm-pwfile's server index hands over the same encoded facts for every request of an account", async () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/passwd`;
    Deno.writeTextFileSync(path, FILE);
    const backend = createPwfileBackend({ CVM_PWFILE_PATH: path }, {
      persistent: true,
    });
    const request = toModuleRequest({
      version: 2,
      random: new Uint8Array(0),
      credentials: [{ type: 1, value: enc("bob") }],
    });
    const a = (await backend.lookup(request))!;
    const b = (await backend.lookup(request))!;
    const facts = backend.results(a, request);
    assertEquals(facts.raw !== undefined, true);
    assertEquals(facts.raw === backend.results(b, request).raw, true);
    assertEquals(facts.username, "Bob");
    assertEquals(facts.realname, "Bob B");
  } finally {
    dir.cleanup();
  }
});
