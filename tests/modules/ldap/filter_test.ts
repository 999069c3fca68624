/**
 * The cvm-ldap filter templates: RFC 4515 escaping and template checks.
 */
import {
  deepStrictEqual as assertEquals,
  throws as assertThrows,
} from "node:assert/strict";
import { FilterParser } from "ldapts";
import {
  compileFilter,
  escapeFilterValue,
  expandFilter,
} from "../../../modules/ldap/mod.ts";
import { CvmError } from "../../../protocol/mod.ts";

const NAMES = ["account", "user", "domain"];

Deno.test("escapeFilterValue() escapes *, (, ), \\ and NUL as RFC 4515 says, and nothing else", () => {
  assertEquals(escapeFilterValue("*"), "\\2a");
  assertEquals(escapeFilterValue(")(uid=*"), "\\29\\28uid=\\2a");
  assertEquals(escapeFilterValue("\\2a"), "\\5c2a");
  assertEquals(escapeFilterValue("a\0b"), "a\\00b");
  assertEquals(escapeFilterValue("jörg@example.com"), "jörg@example.com");
  assertEquals(escapeFilterValue(""), "");
});

Deno.test("expandFilter() values parse back to exactly the name, as one equality match", () => {
  const template = compileFilter("CVM_LDAP_FILTER", "(uid=$account)", NAMES);
  for (
    const name of [
      "*",
      "alic*",
      ")(uid=*",
      "\\2a",
      "od*d(1)\\x",
      "jörg",
      "a\0b",
    ]
  ) {
    const filter = FilterParser.parseString(
      expandFilter(template, { account: name }),
    ) as unknown as { type: number; attribute: string; value: string };
    // 0xa3: equalityMatch, never a substring or presence filter.
    assertEquals(filter.type, 0xa3, name);
    assertEquals(filter.attribute, "uid");
    // The parser keeps non-ASCII as is and decodes escapes to bytes.
    assertEquals(filter.value, name, name);
  }
});

Deno.test("compileFilter() knows $name, ${name} and $$, and fills every slot", () => {
  const template = compileFilter(
    "CVM_LDAP_FILTER",
    "(&(mail=$user@${domain})(description=$$x))",
    NAMES,
  );
  assertEquals(
    expandFilter(template, { user: "b*b", domain: "ex(ample)" }),
    "(&(mail=b\\2ab@ex\\28ample\\29)(description=$x))",
  );
});

Deno.test("compileFilter() refuses unknown variables, a stray $, bad syntax, naming the variable", () => {
  for (
    const bad of [
      "(uid=$acount)",
      "(uid=${account)",
      "(uid=$ )",
      "(uid=$account",
      "uid=$account)(x=y",
      "(uid=$account))",
      "",
    ]
  ) {
    assertThrows(
      () => compileFilter("CVM_LDAP_FILTER", bad, NAMES),
      (e: unknown) =>
        e instanceof CvmError && e.code === 6 &&
        e.message.startsWith("$CVM_LDAP_FILTER: "),
      bad,
    );
  }
});
