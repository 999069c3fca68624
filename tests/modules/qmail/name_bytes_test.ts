/**
 * cvm-qmail, cvm-vmailmgr and cvm-vchkpw compare names as bytes, as the
 * reference does (A–Z folded, nothing else): `jos\xe9` (ISO-8859-1 é) in
 * users/cdb, a passwd.cdb or vpasswd is reached by `jos\xe9` only, never by
 * `jos\xff` or any other invalid byte (which UTF-8 decoding with U+FFFD
 * would make the same name), nor by the UTF-8 spelling of é. The facts
 * carry the stored bytes. Raw requests, compared byte for byte with
 * Debian's modules where there is one.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { FactType } from "../../../protocol/mod.ts";
import { crypt } from "../../../sys/crypt.ts";
import { dist, ensureDist, run } from "../../_helpers.ts";
import {
  askCommand,
  bytesOf,
  rawRequest,
  replyFacts,
  shown,
} from "../_raw_names.ts";
import {
  canRunQmailTests,
  QmailFixture,
  REF,
  usersExact,
  usersWild,
  writeCdbChecked,
} from "./_fixture.ts";

const RUN_QMAIL = canRunQmailTests(["cvm-qmail"]);
const RUN_VMAILMGR = canRunQmailTests(["cvm-vmailmgr"]);
const options = { sanitizeResources: false, sanitizeOps: false };

/** A format 2 vmailmgr entry of byte strings (no flags, no forwards). */
function vmailmgrEntry(password: string, mailbox: string): Uint8Array {
  return bytesOf(`\x02\x00${password}\0${mailbox}\0\0\0-\0-\0-\0-\x001\0-\0`);
}

/** Creates a file whose name is a byte string (Deno names files by text). */
async function touchBytes(dir: string, name: string): Promise<void> {
  const octal = Array.from(bytesOf(name), (b) => `\\${b.toString(8)}`);
  const out = await run("sh", [
    "-c",
    `cd "$1" && : > "$(printf '${octal.join("")}')"`,
    "sh",
    dir,
  ]);
  if (out.code !== 0) throw new Error(`cannot create ${shown(name)}`);
}

Deno.test({
  name:
    "cvm-qmail compares local parts and .qmail names as bytes, exactly as the reference",
  ignore: !RUN_QMAIL,
  ...options,
  async fn(t) {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const a = await fx.addUser(`n${fx.tag}a`);
      fx.control("locals", "local.test\n");
      await fx.usersCdb([
        usersExact("jos\xe9", a),
        usersWild("list-", a),
      ].map(([k, d]) => [bytesOf(k as string), bytesOf(d as string)]));
      // A .qmail file named with U+FFFD: what x\xff would read as.
      await touchBytes(a.home, ".qmail-x\xef\xbf\xbd");
      const env = { ...fx.env, CVM_LOOKUP_SECRET: "" };
      const cases: Array<[string, number]> = [
        ["jos\xe9", 0],
        ["JOS\xe9", 0],
        ["jos\xff", 100],
        ["jos\xc3\xa9", 100],
        ["list-x\xef\xbf\xbd", 0],
        ["list-x\xff", 100],
        ["list-x\xfe", 100],
      ];
      for (const [account, code] of cases) {
        await t.step(shown(account), async () => {
          const request = rawRequest(account, undefined, "local.test");
          const ref = await askCommand(`${REF}/cvm-qmail`, env, request);
          const ours = await askCommand(`${dist}/cvm-qmail`, env, request);
          assertEquals(ref.code, code, "the reference compares bytes");
          assertEquals(ours, ref);
        });
      }
    } finally {
      await fx.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-vmailmgr compares virtual user names as bytes and sends the stored bytes, exactly as the reference",
  ignore: !RUN_VMAILMGR,
  ...options,
  async fn(t) {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const v = await fx.addUser(`n${fx.tag}v`);
      fx.control("locals", "local.test\n");
      fx.control("virtualdomains", `virt.test:${v.name}\n`);
      await writeCdbChecked(`${v.home}/passwd.cdb`, [
        [bytesOf("jos\xe9"), vmailmgrEntry("$0$latin-pw", "./users/jos\xe9")],
        [
          bytesOf("ren\xc3\xa9e"),
          vmailmgrEntry("$0$utf8-pw", "./users/ren\xc3\xa9e"),
        ],
      ]);
      Deno.chownSync(`${v.home}/passwd.cdb`, v.uid, v.gid);
      const env = fx.env;
      const cases: Array<[string, string, number]> = [
        ["jos\xe9", "latin-pw", 0],
        ["JOS\xe9", "latin-pw", 0],
        ["jos\xff", "latin-pw", 100],
        ["jos\xc9", "latin-pw", 100],
        ["jos\xc3\xa9", "latin-pw", 100],
        ["jos\xef\xbf\xbd", "latin-pw", 100],
        ["ren\xc3\xa9e", "utf8-pw", 0],
        ["ren\xe9e", "utf8-pw", 100],
      ];
      for (const [account, password, code] of cases) {
        await t.step(shown(account), async () => {
          const request = rawRequest(account, password, "virt.test");
          const ref = await askCommand(`${REF}/cvm-vmailmgr`, env, request);
          const ours = await askCommand(`${dist}/cvm-vmailmgr`, env, request);
          assertEquals(ref.code, code, "the reference compares bytes");
          assertEquals(ours, ref);
        });
      }
      const facts = replyFacts(
        await askCommand(
          `${dist}/cvm-vmailmgr`,
          env,
          rawRequest("jos\xe9", "latin-pw", "virt.test"),
        ),
      );
      assertEquals(facts.get(FactType.USERNAME), "jos\xe9");
      assertEquals(facts.get(FactType.MAILBOX), `${v.home}/users/jos\xe9`);
    } finally {
      await fx.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-vchkpw compares user names as bytes in vpasswd and vpasswd.cdb and sends the stored bytes",
  ignore: Deno.uid() !== 0,
  ...options,
  async fn(t) {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const text = `${fx.root}/domains/text.test`;
      const cdb = `${fx.root}/domains/cdb.test`;
      Deno.mkdirSync(text, { recursive: true });
      Deno.mkdirSync(cdb, { recursive: true });
      Deno.writeTextFileSync(
        `${fx.root}/users/assign`,
        `+text.test-:vpopmail:89:90:${text}:-::\n` +
          `+cdb.test-:vpopmail:89:90:${cdb}:-::\n.\n`,
      );
      const hash = (await crypt(bytesOf("pw"), "$1$abcdefgh"))!;
      const rest = (dir: string) =>
        `${hash}:1:0:Jos\xe9 L:${dir}/jos\xe9:NOQUOTA`;
      Deno.writeFileSync(
        `${text}/vpasswd`,
        bytesOf(
          `jos\xe9:${
            rest(text)
          }\nren\xc3\xa9e:${hash}:1:0:R:${text}/r:NOQUOTA\n`,
        ),
      );
      await writeCdbChecked(`${cdb}/vpasswd.cdb`, [
        [bytesOf("jos\xe9"), bytesOf(rest(cdb))],
      ]);
      const cases: Array<[string, number]> = [
        ["jos\xe9", 0],
        ["JOS\xe9", 0],
        ["jos\xff", 100],
        ["jos\xc9", 100],
        ["jos\xc3\xa9", 100],
        ["jos\xef\xbf\xbd", 100],
      ];
      for (const [domain, dir] of [["text.test", text], ["cdb.test", cdb]]) {
        for (const [account, code] of cases) {
          await t.step(`${shown(account)}@${domain}`, async () => {
            const answer = await askCommand(
              `${dist}/cvm-vchkpw`,
              fx.env,
              rawRequest(account, "pw", domain),
            );
            assertEquals(answer.code, code);
            const facts = replyFacts(answer);
            if (code !== 0) {
              assertEquals(facts.get(FactType.OUTOFSCOPE), "0");
              return;
            }
            assertEquals(facts.get(FactType.USERNAME), "jos\xe9");
            assertEquals(facts.get(FactType.REALNAME), "Jos\xe9 L");
            assertEquals(facts.get(FactType.DIRECTORY), `${dir}/jos\xe9`);
          });
        }
      }
      await t.step("ren\\xc3\\xa9e (UTF-8) as before", async () => {
        const answer = await askCommand(
          `${dist}/cvm-vchkpw`,
          fx.env,
          rawRequest("ren\xc3\xa9e", "pw", "text.test"),
        );
        assertEquals(answer.code, 0);
        assertEquals(replyFacts(answer).get(FactType.USERNAME), "ren\xc3\xa9e");
      });
    } finally {
      await fx.cleanup();
    }
  },
});
