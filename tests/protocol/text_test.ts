/**
 * toExactText() and toBytes(): names decoded without losing a byte, so two
 * different byte strings never become the same text.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { toBytes, toExactText, toText } from "../../protocol/mod.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

Deno.test("toExactText() decodes valid UTF-8 as toText() does, a byte order mark kept", () => {
  for (const text of ["", "bob", "José", "Ренée", "\u{1F600}x", "\uFFFD"]) {
    const bytes = new TextEncoder().encode(text);
    assertEquals(toExactText(bytes), text);
    assertEquals(toExactText(bytes), toText(bytes));
  }
  assertEquals(toExactText(b(0xef, 0xbb, 0xbf, 0x62)), "\uFEFFb");
  assertEquals(toText(b(0xef, 0xbb, 0xbf, 0x62)), "b"); // why toText cannot do
});

Deno.test("toExactText() keeps each byte that is not UTF-8 as U+DC00 + byte, which is not well formed", () => {
  assertEquals(toExactText(b(0x6a, 0xe9)), "j\uDCE9");
  assertEquals(toExactText(b(0x6a, 0xff)), "j\uDCFF");
  assertEquals(toExactText(b(0xc3)), "\uDCC3"); // truncated
  assertEquals(toExactText(b(0xc0, 0xaf)), "\uDCC0\uDCAF"); // overlong
  assertEquals(toExactText(b(0xed, 0xa0, 0x80)), "\uDCED\uDCA0\uDC80"); // surrogate
  assertEquals(
    toExactText(b(0xf4, 0x90, 0x80, 0x80)),
    "\uDCF4\uDC90\uDC80\uDC80",
  );
  assertEquals(toExactText(b(0x62, 0xc3, 0xa9, 0xe9)), "bé\uDCE9");
  assertEquals(toExactText(b(0xf0, 0x9f, 0x98, 0x80, 0xff)), "\u{1F600}\uDCFF");
  assertEquals(toExactText(b(0x6a, 0xe9)).isWellFormed(), false);
  assertEquals(toExactText(b(0x6a, 0xc3, 0xa9)).isWellFormed(), true);
});

Deno.test("toBytes(toExactText(bytes)) is bytes, so different bytes never read the same", () => {
  // Every string of up to two bytes, and random longer ones.
  const seen = new Set<string>();
  const check = (bytes: Uint8Array) => {
    const text = toExactText(bytes);
    assertEquals(toBytes(text), bytes);
    assertEquals(seen.has(text), false);
    seen.add(text);
  };
  check(b());
  for (let x = 0; x < 256; x++) {
    check(b(x));
    for (let y = 0; y < 256; y++) check(b(x, y));
  }
  for (let i = 0; i < 20000; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(3 + (i % 6)));
    assertEquals(toBytes(toExactText(bytes)), bytes);
  }
});

Deno.test("toBytes() of well-formed text is its UTF-8; other lone surrogates stay U+FFFD", () => {
  assertEquals(toBytes("é\u{1F600}"), new TextEncoder().encode("é\u{1F600}"));
  // A pair whose low half lies in U+DC80–U+DCFF is a character, not a byte.
  assertEquals(toBytes("\uD800\uDC80"), b(0xf0, 0x90, 0x82, 0x80));
  assertEquals(toBytes("\uD800x"), b(0xef, 0xbf, 0xbd, 0x78));
  assertEquals(toBytes("\uDC7F"), b(0xef, 0xbf, 0xbd));
});
