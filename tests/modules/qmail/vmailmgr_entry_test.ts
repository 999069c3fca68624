/**
 * vmailmgr entries on their own (decoding, encoding, mailbox paths,
 * LOCK_DISABLED), and the challenge-response credentials a plain-text
 * password answers (an extension: the reference's cvm-vmailmgr has none).
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { authenticate } from "../../../clients/client.ts";
import {
  byteString,
  byteStringBytes,
  decodeEntry,
  encodeEntry,
  isMailboxEnabled,
  mergePath,
} from "../../../modules/qmail/vmailmgr_entry.ts";
import { checkEntryPassword } from "../../../modules/qmail/vmailmgr.ts";
import { CredentialType } from "../../../protocol/mod.ts";
import { crypt } from "../../../sys/crypt.ts";
import { dist, ensureDist } from "../../_helpers.ts";
import { entry, QmailFixture, writeCdbChecked } from "./_fixture.ts";

const encoder = new TextEncoder();

Deno.test("decodeEntry() reads format 2, 1 and old entries", () => {
  const e = decodeEntry(entry({
    password: "$0$pw",
    flags: [[10, 1], [8, 0]],
    mailbox: "./users/bob",
    forwards: ["a@b", "c@d"],
    personal: "Bob",
    numbers: ["1", "", "-", "4294967296", "99999999999999999999", "-"],
  }));
  assertEquals(e, {
    format: 2,
    password: "$0$pw",
    mailbox: "./users/bob",
    forwards: ["a@b", "c@d"],
    personal: "Bob",
    numbers: [1, 0, 0xffffffff, 0, 1661992959, 0xffffffff],
    hasMailboxFlag: 1,
    enabledFlag: 0,
  });
  assertEquals(decodeEntry(entry({ format: 1, password: "p" }))?.format, 1);
  assertEquals(decodeEntry(encoder.encode(":pw:./m:x\0junk")), {
    format: 0,
    password: "pw",
    mailbox: "./m:x",
    forwards: [],
    personal: "",
    numbers: Array(6).fill(0xffffffff),
  });
  for (
    const bad of [
      new Uint8Array(0),
      encoder.encode(":nocolon"),
      encoder.encode("pw:./m"),
      new Uint8Array([2]),
      new Uint8Array([2, 9, 1, 0]),
      new Uint8Array([3, 0]),
      new Uint8Array([...entry({ password: "p" }), 1]),
      entry({ password: "p", numbers: ["1", "2", "3", "4", "5"] }),
      entry({ password: "p", numbers: ["x", "2", "3", "4", "5", "6"] }),
    ]
  ) {
    assertEquals(decodeEntry(bad), undefined);
  }
});

Deno.test("encodeEntry() writes format 2 with flags 10 and 8, old stays old", () => {
  const v1 = decodeEntry(entry({ format: 1, password: "p", mailbox: "" }))!;
  assertEquals(
    encodeEntry(v1),
    entry({ password: "p", mailbox: "", flags: [[10, 0], [8, 1]] }),
  );
  const v2 = decodeEntry(
    entry({ password: "p", numbers: ["007", "", "-", "4294967295", "1", "2"] }),
  )!;
  assertEquals(
    encodeEntry(v2),
    entry({
      password: "p",
      flags: [[10, 1], [8, 0]],
      numbers: ["7", "0", "-", "-", "1", "2"],
    }),
  );
  const old = decodeEntry(encoder.encode(":pw:./m"))!;
  old.password = "$0$new";
  assertEquals(new TextDecoder().decode(encodeEntry(old)), ":$0$new:./m");
  const latin1 = new Uint8Array([...entry({ password: "p", personal: "J@" })]);
  latin1[latin1.indexOf(0x40)] = 0xfc;
  const round = encodeEntry(decodeEntry(latin1)!);
  assertEquals(round.subarray(6), latin1.subarray(2));
});

Deno.test("isMailboxEnabled(): flag 8 for format 2, always otherwise", () => {
  const enabled = (spec: Parameters<typeof entry>[0]) =>
    isMailboxEnabled(decodeEntry(entry(spec))!);
  assertEquals(enabled({ password: "p" }), false);
  assertEquals(enabled({ password: "p", flags: [[8, 1]] }), true);
  assertEquals(enabled({ password: "p", flags: [[8, 2], [10, 0]] }), true);
  assertEquals(enabled({ password: "p", flags: [[10, 1]] }), false);
  assertEquals(enabled({ format: 1, password: "p", mailbox: "" }), true);
  assertEquals(isMailboxEnabled(decodeEntry(encoder.encode(":p:"))!), true);
});

Deno.test("mergePath() merges as the reference does", () => {
  assertEquals(mergePath("/h/v", ""), "/h/v");
  assertEquals(mergePath("/h/v/", "./"), "/h/v/");
  assertEquals(mergePath("/h/v", "./users/bob/"), "/h/v/users/bob");
  assertEquals(mergePath("/h/v", "../x"), "/h/x");
  assertEquals(mergePath("/h/v//", "../x"), "/h/v/x");
  assertEquals(mergePath("/h/v/.", "a/b/../c"), "/h/v/./a/c");
  assertEquals(mergePath("/h/v/.", "../x"), "/h/v/x");
  assertEquals(mergePath("/h/v", "../../../../x"), "/x");
  assertEquals(mergePath("/h/v", "/a/../../b/"), "/b");
  assertEquals(mergePath("/h/v", "/"), "/");
  assertEquals(mergePath("/h/v", "//a"), "/a");
});

Deno.test("byteString() round-trips any bytes", () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  assertEquals(byteStringBytes(byteString(bytes)), bytes);
});

Deno.test("checkEntryPassword(): $0$, $1$, crypt, APOP and CRAM-MD5", async () => {
  const plain = decodeEntry(entry({ password: "$0$secret" }))!;
  const md5 = decodeEntry(entry({
    password: (await crypt(encoder.encode("secret"), "$1$abcdefgh"))!,
  }))!;
  const pw = (p: string) => ({ password: encoder.encode(p) });
  assertEquals(await checkEntryPassword(plain, pw("secret")), true);
  assertEquals(await checkEntryPassword(plain, pw("secre")), false);
  assertEquals(await checkEntryPassword(md5, pw("secret")), true);
  assertEquals(await checkEntryPassword(md5, pw("$1$abcdefgh")), false);
  const challenge = encoder.encode("<1.2@h>");
  const cram = createHmac("md5", "secret").update(challenge).digest();
  const cr = (type: string, response: Uint8Array) => ({
    challenge,
    response,
    responseType: type,
  });
  assertEquals(
    await checkEntryPassword(
      plain,
      cr("CRAM-MD5", encoder.encode(cram.toString("hex"))),
    ),
    true,
  );
  assertEquals(
    await checkEntryPassword(plain, cr("cram-md5", new Uint8Array(cram))),
    true,
  );
  const apop = createHash("md5").update("<1.2@h>secret").digest("hex");
  assertEquals(
    await checkEntryPassword(plain, cr("APOP", encoder.encode(apop))),
    true,
  );
  assertEquals(
    await checkEntryPassword(
      plain,
      cr("APOP", encoder.encode(apop.toUpperCase())),
    ),
    true,
  );
  let error: unknown;
  try {
    await checkEntryPassword(md5, cr("CRAM-MD5", new Uint8Array(cram)));
  } catch (e) {
    error = e;
  }
  assertEquals((error as { code?: number })?.code, 7);
});

Deno.test({
  name: "cvm-vmailmgr answers CRAM-MD5 for $0$ entries",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const v = await fx.addUser(`e${fx.tag}v`);
      fx.control("virtualdomains", `virt.test:${v.name}\n`);
      await writeCdbChecked(`${v.home}/passwd.cdb`, [
        ["bob", entry({ password: "$0$secret", mailbox: "./users/bob" })],
        [
          "des",
          entry({ password: (await crypt(encoder.encode("secret"), "ab"))! }),
        ],
      ]);
      const challenge = "<9.9@virt.test>";
      const ask = (user: string, response: Uint8Array) =>
        authenticate(`${dist}/cvm-vmailmgr`, [
          { type: CredentialType.ACCOUNT, value: encoder.encode(user) },
          { type: CredentialType.DOMAIN, value: encoder.encode("virt.test") },
          { type: CredentialType.CHALLENGE, value: encoder.encode(challenge) },
          { type: CredentialType.RESPONSE, value: response },
          {
            type: CredentialType.RESPONSE_TYPE,
            value: encoder.encode("CRAM-MD5"),
          },
        ], { env: fx.env });
      const digest = createHmac("md5", "secret").update(challenge).digest();
      const ok = await ask("bob", new Uint8Array(digest));
      assertEquals([ok.code, ok.facts.username], [0, "bob"]);
      assertEquals(
        (await ask("bob", encoder.encode(digest.toString("hex")))).code,
        0,
      );
      const wrong = await ask("bob", new Uint8Array(16));
      assertEquals([wrong.code, wrong.facts.outOfScope], [100, 0]);
      assertEquals((await ask("des", new Uint8Array(digest))).code, 7);
    } finally {
      await fx.cleanup();
    }
  },
});
