/**
 * The pieces of the qmail lookup on their own (control file parsing,
 * users/cdb records, .qmail candidates, lookaside parsing), and where
 * cvm-qmail deliberately differs from the reference.
 */

import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  findVirtualdomain,
  parseLocals,
  parseVirtualdomains,
} from "../../../modules/qmail/control.ts";
import {
  deliveryPrograms,
  dotfileCandidates,
  parseLookaside,
} from "../../../modules/qmail/dotfile.ts";
import { asciiLower } from "../../../protocol/mod.ts";
import { qmailOptionsFromEnv } from "../../../modules/qmail/lookup.ts";
import {
  lookupLocalPart,
  parseUnsignedLong,
  parseUsersRecord,
  type SystemAccount,
} from "../../../modules/qmail/users.ts";
import { Cdb } from "../../../modules/cdb/reader.ts";
import { makeCdb } from "../../../modules/cdb/writer.ts";
import { dist, ensureDist, run } from "../../_helpers.ts";
import { QmailFixture } from "./_fixture.ts";

const encoder = new TextEncoder();

Deno.test("parseLocals() trims, lower-cases and skips blank lines", () => {
  assertEquals(
    [...parseLocals(" Example.COM \r\n\n\tlocalhost\n")],
    ["example.com", "localhost"],
  );
});

Deno.test("parseVirtualdomains() splits at the first colon, first line wins", () => {
  const map = parseVirtualdomains(
    " A.Test:pre:x \nnocolon\nb.test :p\nA.TEST:second\n.sub.test:\n",
  );
  assertEquals([...map], [["a.test", "pre:x"], ["b.test ", "p"], [
    ".sub.test",
    "",
  ]]);
});

Deno.test("findVirtualdomain() tries the domain, then suffixes from the left", () => {
  const map = parseVirtualdomains(".test:t\n.b.test:b\nx.b.test:x\n");
  assertEquals(findVirtualdomain(map, "x.b.test"), {
    key: "x.b.test",
    prefix: "x",
  });
  assertEquals(findVirtualdomain(map, "a.x.b.test"), {
    key: ".b.test",
    prefix: "b",
  });
  assertEquals(findVirtualdomain(map, "c.test"), { key: ".test", prefix: "t" });
  assertEquals(findVirtualdomain(map, "test"), undefined);
});

Deno.test("dotfileCandidates() follows qmail-local's -default search", () => {
  assertEquals(dotfileCandidates("", ""), [".qmail"]);
  assertEquals(dotfileCandidates("-", ""), [".qmail-", ".qmail-default"]);
  assertEquals(dotfileCandidates("-", "a.b-c-"), [
    ".qmail-a:b-c-",
    ".qmail-a:b-c-default",
    ".qmail-a:b-default",
    ".qmail-default",
  ]);
  assertEquals(dotfileCandidates("X", "y"), [".qmailXy", ".qmailXdefault"]);
});

Deno.test("parseLookaside() and deliveryPrograms() read program names", () => {
  assertEquals(parseLookaside("  a  b\tc "), ["a", "b\tc"]);
  assertEquals(
    deliveryPrograms(
      "#|no\n  |  one -x\n\t|two\r\n&three\n|four\t5\n| \n./Maildir/\n",
    ),
    ["one", "two", "four", ""],
  );
});

Deno.test("parseUnsignedLong() is strtoul with a check for the end", () => {
  assertEquals(parseUnsignedLong(""), "0");
  assertEquals(parseUnsignedLong(" 42"), "42");
  assertEquals(parseUnsignedLong("+7"), "7");
  assertEquals(parseUnsignedLong("-0"), "0");
  assertEquals(parseUnsignedLong("-5"), "18446744073709551611");
  assertEquals(
    parseUnsignedLong("99999999999999999999999"),
    "18446744073709551615",
  );
  for (const bad of ["  ", "+", "1 ", "0x1", "4a"]) {
    assertEquals(parseUnsignedLong(bad), undefined);
  }
});

Deno.test("parseUsersRecord() needs six fields, a final NUL implied", () => {
  const record = (text: string) => parseUsersRecord(encoder.encode(text));
  assertEquals(record("u\x001\x002\x00/h\x00-\x00e\x00"), {
    user: "u",
    uid: "1",
    gid: "2",
    home: "/h",
    dash: "-",
    ext: "e",
    rest: "",
  });
  assertEquals(record("u\x001\x002\x00/h\x00-\x00")?.ext, "");
  assertEquals(record("u\x001\x002\x00/h\x00-\x00ab")?.ext, "ab");
  assertEquals(record("u\x001\x002\x00/h\x00"), undefined);
  assertEquals(record("u\x00x\x002\x00/h\x00-\x00"), undefined);
});

Deno.test("lookupLocalPart() tries exact, then prefixes ending in a dash, then the catch-all", () => {
  const rec = (uid: number, ext: string) =>
    `u\x00${uid}\x002\x00/h\x00-\x00${ext}`;
  const cdb = Cdb.fromBytes(makeCdb([
    ["", "+"],
    ["!a-b\0", rec(1, "exact\0")],
    ["!a-", rec(2, "w")],
    ["!a+", rec(3, "plus")],
    ["!", rec(4, "all")],
  ]));
  const none = () => undefined;
  assertEquals(lookupLocalPart("a-b", cdb, none)?.uid, "1");
  assertEquals(lookupLocalPart("A-B", cdb, none)?.uid, "1");
  assertEquals(lookupLocalPart("a-c-d", cdb, none)?.ext, "wc-d");
  assertEquals(lookupLocalPart("a-c-d", cdb, none)?.rest, "c-d");
  assertEquals(lookupLocalPart("a-b", cdb, none)?.rest, "");
  assertEquals(lookupLocalPart("a+b", cdb, none)?.ext, "alla+b");
  assertEquals(lookupLocalPart("", cdb, none)?.ext, "all");
  assertEquals(lookupLocalPart("-x", cdb, none)?.rest, "x");
  const bad = Cdb.fromBytes(makeCdb([["!x\0", "u\x001"]]));
  throws(() => lookupLocalPart("x", bad, none), /malformed/);
});

Deno.test("lookupLocalPart() asks the system accounts for each name before the next, shorter one", () => {
  const account = (name: string): SystemAccount => ({
    name,
    uid: 10,
    gid: 20,
    dir: `/home/${name}`,
  });
  const known = new Set(["nobody", "bob-list", "bob", "alias", "Case"]);
  const asked: string[] = [];
  const getpw = (name: string) => {
    asked.push(name);
    return known.has(name) ? account(name) : undefined;
  };
  const rec = (user: string) => `${user}\x001\x002\x00/h\x00-\x00`;
  const cdb = Cdb.fromBytes(makeCdb([
    ["!bob-", rec("wild")],
    ["!", rec("catchall")],
  ]));
  // A system account beats the catch-all and a wildcard of a shorter name.
  assertEquals(lookupLocalPart("nobody", cdb, getpw)?.user, "nobody");
  assertEquals(lookupLocalPart("bob-list", cdb, getpw)?.user, "bob-list");
  asked.length = 0;
  const ext = lookupLocalPart("nobody-x-y", cdb, getpw);
  assertEquals([ext?.user, ext?.dash, ext?.ext], ["nobody", "-", "x-y"]);
  assertEquals(asked, ["nobody-x-y", "nobody-x", "nobody"]);
  // A wildcard beats a system account of a shorter name.
  assertEquals(lookupLocalPart("bob-list-x", cdb, getpw)?.user, "bob-list");
  assertEquals(lookupLocalPart("bob-x", cdb, getpw)?.user, "wild");
  assertEquals(lookupLocalPart("zed-x", cdb, getpw)?.user, "catchall");
  // With a users/cdb, accounts are asked for by the name as given;
  // without one, lower-cased.
  assertEquals(lookupLocalPart("NOBODY", cdb, getpw)?.user, "catchall");
  assertEquals(lookupLocalPart("NOBODY", undefined, getpw)?.user, "nobody");
  assertEquals(lookupLocalPart("Case", cdb, getpw)?.user, "Case");
  // Without either, the empty name is the alias user.
  const alias = lookupLocalPart("zed-x", undefined, getpw);
  assertEquals([alias?.user, alias?.dash, alias?.ext], ["alias", "-", "zed-x"]);
  const empty = lookupLocalPart("", undefined, getpw);
  assertEquals([empty?.user, empty?.dash, empty?.ext], ["alias", "", ""]);
  assertEquals(lookupLocalPart("zed", undefined, () => undefined), undefined);
});

Deno.test("asciiLower() and qmailOptionsFromEnv() defaults", () => {
  assertEquals(asciiLower("AbC-ÄÖ"), "abc-ÄÖ");
  assertEquals(qmailOptionsFromEnv({}), {
    root: "/var/qmail",
    assumeLocal: false,
    missingDomain: undefined,
    missingUser: "alias",
  });
  assertEquals(
    qmailOptionsFromEnv({
      QMAIL_ROOT: "",
      CVM_QMAIL_ASSUME_LOCAL: "",
      CVM_QMAIL_MISSINGDOMAIN: "",
      CVM_QMAIL_MISSINGUSER: "",
    }),
    {
      root: "",
      assumeLocal: true,
      missingDomain: "localhost",
      missingUser: "alias",
    },
  );
});

Deno.test({
  name: "cvm-qmail: deliberate differences from the reference",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const a = await fx.addUser(`d${fx.tag}a`);
      fx.control("locals", "local.test\n");
      const ask = async (
        args: string[],
        extra: Record<string, string> = {},
      ) => {
        const out = await run(`${dist}/cvm-testclient`, [
          `${dist}/cvm-qmail`,
          ...args,
        ], { env: { ...fx.env, CVM_LOOKUP_SECRET: "", ...extra } });
        return [out.code, out.stdout.split("\n")[0]];
      };
      await t.step(
        "a lookaside list checks .qmail for addresses without extension",
        async () => {
          // The reference opens a null path here and fails temporarily.
          const lookaside = { CVM_QMAIL_LOOKASIDE: "vdeliver" };
          assertEquals(await ask([a.name, "local.test"], lookaside), [
            0,
            `user name:        ${a.name}`,
          ]);
          Deno.writeTextFileSync(`${a.home}/.qmail`, "./Maildir/\n");
          assertEquals((await ask([a.name, "local.test"], lookaside))[0], 0);
          Deno.writeTextFileSync(`${a.home}/.qmail`, "|vdeliver\n");
          assertEquals(await ask([a.name, "local.test"], lookaside), [
            100,
            "out of scope:     1",
          ]);
        },
      );
      await t.step(
        "an unreadable control/me is a temporary error",
        async () => {
          // The reference loops forever reading a directory.
          Deno.mkdirSync(`${fx.root}/control/me`);
          assertEquals((await ask([a.name, ""]))[0], 4);
          assertEquals((await ask([a.name, "local.test"]))[0], 0);
        },
      );
    } finally {
      await fx.cleanup();
    }
  },
});
