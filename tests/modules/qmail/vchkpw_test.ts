/**
 * cvm-vchkpw on vpopmail's own files (Debian has no reference binary for
 * it): domains from users/assign, users from vpasswd.cdb or vpasswd,
 * crypt passwords, clear-text passwords for APOP and CRAM-MD5, scope.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { authenticate } from "../../../clients/client.ts";
import {
  findVpasswd,
  parseAssign,
  parseVpasswdRest,
} from "../../../modules/qmail/vchkpw.ts";
import { CredentialType } from "../../../protocol/mod.ts";
import { crypt } from "../../../sys/crypt.ts";
import { dist, ensureDist, run } from "../../_helpers.ts";
import { QmailFixture, writeCdbChecked } from "./_fixture.ts";

const encoder = new TextEncoder();
const canRun = Deno.uid() === 0;

Deno.test("parseAssign() reads +domain- lines up to the final dot", () => {
  const map = parseAssign(
    [
      "=vpopmail:vpopmail:89:89:/home/vpopmail:::",
      "+Example.COM-:vpopmail:89:89:/home/vpopmail/domains/example.com:-::",
      "+alias.test-:vpopmail:89:89:/home/vpopmail/domains/example.com:-::",
      "+bad-:vpopmail:x:89:/d:-::",
      "+nodash:vpopmail:89:89:/d:-::",
      "+example.com-:other:1:1:/elsewhere:-::",
      ".",
      "+after.test-:vpopmail:89:89:/d:-::",
    ].join("\n"),
  );
  assertEquals([...map.keys()], ["example.com", "alias.test"]);
  assertEquals(map.get("example.com"), {
    domain: "example.com",
    user: "vpopmail",
    uid: "89",
    gid: "89",
    dir: "/home/vpopmail/domains/example.com",
  });
});

Deno.test("parseVpasswdRest() and findVpasswd() read vpasswd lines", () => {
  assertEquals(parseVpasswdRest("bob", "xx:1:8:Bob B:/d/bob:NOQUOTA:cl:ear"), {
    name: "bob",
    password: "xx",
    uidField: "1",
    gidField: "8",
    gecos: "Bob B",
    dir: "/d/bob",
    quota: "NOQUOTA",
    clear: "cl:ear",
  });
  assertEquals(parseVpasswdRest("bob", "xx").dir, "");
  const text = "alice:a:1:0:A:/d/alice:NOQUOTA\nbob:b:1:0:B:/d/bob:5M:pw\n";
  assertEquals(findVpasswd(text, "bob")?.clear, "pw");
  assertEquals(findVpasswd(text, "bo"), undefined);
});

Deno.test({
  name: "cvm-vchkpw validates vpopmail users",
  ignore: !canRun,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const dom = `${fx.root}/domains/example.test`;
      const dom2 = `${fx.root}/domains/cdb.test`;
      Deno.mkdirSync(dom, { recursive: true });
      Deno.mkdirSync(dom2, { recursive: true });
      Deno.mkdirSync(`${fx.root}/domains/empty.test`, { recursive: true });
      Deno.writeTextFileSync(
        `${fx.root}/users/assign`,
        [
          `+example.test-:vpopmail:89:90:${dom}:-::`,
          `+alias.test-:vpopmail:89:90:${dom}:-::`,
          `+cdb.test-:vpopmail:89:90:${dom2}:-::`,
          `+empty.test-:vpopmail:89:90:${fx.root}/domains/empty.test:-::`,
          ".",
          "",
        ].join("\n"),
      );
      const hash = (await crypt(encoder.encode("pw"), "$1$abcdefgh"))!;
      Deno.writeTextFileSync(
        `${dom}/vpasswd`,
        `bob:${hash}:1:0:Bob Smith:${dom}/bob:NOQUOTA:clearpw\n` +
          `noclear:${hash}:1:0:No Clear:${dom}/noclear:NOQUOTA\n` +
          `kate:${hash}:1:0:Kate:${dom}/kate:NOQUOTA\n`,
      );
      Deno.writeTextFileSync(
        `${dom2}/vpasswd`,
        `text:${hash}:1:0:T:/t:NOQUOTA\n`,
      );
      await writeCdbChecked(`${dom2}/vpasswd.cdb`, [
        ["carol", `${hash}:1:0:Carol:${dom2}/carol:NOQUOTA:cpw`],
      ]);
      fx.control("envnoathost", "example.test\n");
      const env = fx.env;
      const client = (args: string[], extra: Record<string, string> = {}) =>
        run(`${dist}/cvm-testclient`, [`${dist}/cvm-vchkpw`, ...args], {
          env: { ...env, ...extra },
        });

      await t.step("a user with the right password", async () => {
        const out = await client(["bob", "example.test", "pw"]);
        assertEquals(out.code, 0);
        assertEquals(
          out.stdout,
          [
            "user name:        bob",
            "user ID:          89",
            "group ID:         90",
            "real name:        Bob Smith",
            `directory:        ${dom}/bob`,
            "shell:            (null)",
            "group name:       (null)",
            "system user name: vpopmail",
            `system directory: ${dom}`,
            "domain:           example.test",
            `mailbox path:     ${dom}/bob/Maildir`,
            "",
          ].join("\n"),
        );
        assertEquals((await client(["BOB", "Example.TEST", "pw"])).code, 0);
        assertEquals((await client(["bob@alias.test", "", "pw"])).code, 0);
        assertEquals((await client(["bob", "", "pw"])).code, 0);
        assertEquals((await client(["carol", "cdb.test", "pw"])).code, 0);
      });

      await t.step("rejections and scope", async () => {
        const wrong = await client(["bob", "example.test", "clearpw"]);
        assertEquals([wrong.code, wrong.stdout], [
          100,
          "out of scope:     0\n",
        ]);
        const unknown = await client(["zed", "example.test", "pw"]);
        assertEquals([unknown.code, unknown.stdout], [
          100,
          "out of scope:     0\n",
        ]);
        // vpasswd.cdb wins over vpasswd.
        assertEquals((await client(["text", "cdb.test", "pw"])).code, 100);
        const foreign = await client(["bob", "foreign.test", "pw"]);
        assertEquals([foreign.code, foreign.stdout], [
          100,
          "out of scope:     1\n",
        ]);
        const empty = await client(["bob", "empty.test", "pw"]);
        assertEquals([empty.code, empty.stdout], [
          100,
          "out of scope:     1\n",
        ]);
        assertEquals((await client(["bob", "example.test"])).code, 7);
      });

      await t.step(
        "names fold ASCII only: a Kelvin sign is not k",
        async () => {
          assertEquals((await client(["KATE", "example.test", "pw"])).code, 0);
          for (const name of ["\u212Aate", "\u212AATE"]) {
            const out = await client([name, "example.test", "pw"]);
            assertEquals([out.code, out.stdout], [
              100,
              "out of scope:     0\n",
            ]);
          }
        },
      );

      await t.step("lookup mode", async () => {
        assertEquals(
          (await client(["bob", "example.test"], { CVM_LOOKUP_SECRET: "" }))
            .code,
          0,
        );
      });

      await t.step(
        "APOP and CRAM-MD5 with the clear-text password",
        async () => {
          const ask = (
            user: string,
            type: string,
            challenge: string,
            response: Uint8Array,
          ) =>
            authenticate(`${dist}/cvm-vchkpw`, [
              { type: CredentialType.ACCOUNT, value: encoder.encode(user) },
              {
                type: CredentialType.DOMAIN,
                value: encoder.encode("example.test"),
              },
              {
                type: CredentialType.CHALLENGE,
                value: encoder.encode(challenge),
              },
              { type: CredentialType.RESPONSE, value: response },
              {
                type: CredentialType.RESPONSE_TYPE,
                value: encoder.encode(type),
              },
            ], { env });
          const challenge = "<1.2@example.test>";
          const apop = createHash("md5").update(challenge + "clearpw").digest(
            "hex",
          );
          assertEquals(
            (await ask("bob", "APOP", challenge, encoder.encode(apop))).code,
            0,
          );
          const cram = createHmac("md5", "clearpw").update(challenge).digest(
            "hex",
          );
          assertEquals(
            (await ask("bob", "CRAM-MD5", challenge, encoder.encode(cram)))
              .code,
            0,
          );
          assertEquals(
            (await ask("bob", "CRAM-MD5", challenge, encoder.encode(apop)))
              .code,
            100,
          );
          assertEquals(
            (await ask("noclear", "CRAM-MD5", challenge, encoder.encode(cram)))
              .code,
            7,
          );
        },
      );
    } finally {
      await fx.cleanup();
    }
  },
});
