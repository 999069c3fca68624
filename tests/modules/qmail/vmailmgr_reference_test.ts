/**
 * cvm-vmailmgr against Debian's on the same fixture trees: entry formats
 * (2, 1, old), password schemes ($0$, $1$, crypt), flags and
 * VMAILMGR_LOCK_DISABLED, VMAILMGR_DEFAULT in lookup mode,
 * VMAILMGR_PWFILE, mailbox paths, broken entries and files, and the
 * qmail-side resolution it shares with cvm-qmail.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { crypt } from "../../../sys/crypt.ts";
import { ensureDist } from "../../_helpers.ts";
import {
  canRunQmailTests,
  compareModules,
  entry,
  type EntrySpec,
  type FixtureUser,
  QmailFixture,
  type TextRecord,
  usersWild,
  writeCdbChecked,
} from "./_fixture.ts";

const RUN = canRunQmailTests(["cvm-vmailmgr"]);
const encoder = new TextEncoder();

async function hash(password: string, salt: string): Promise<string> {
  const h = await crypt(encoder.encode(password), salt);
  if (h === undefined) throw new Error(`crypt refused ${salt}`);
  return h;
}

interface World {
  fx: QmailFixture;
  v: FixtureUser;
  a: FixtureUser;
}

async function world(): Promise<World> {
  await ensureDist();
  const fx = QmailFixture.create();
  const v = await fx.addUser(`m${fx.tag}v`);
  const a = await fx.addUser(`m${fx.tag}a`);
  fx.control("locals", "local.test\n");
  fx.control(
    "virtualdomains",
    `virt.test:${v.name}\n.sub.test:${v.name}\nother.test:${a.name}\n`,
  );
  return { fx, v, a };
}

async function passwdCdb(
  path: string,
  records: readonly TextRecord[],
  owner?: FixtureUser,
): Promise<void> {
  await writeCdbChecked(path, records);
  if (owner) Deno.chownSync(path, owner.uid, owner.gid);
}

Deno.test({
  name: "cvm-vmailmgr matches the reference",
  ignore: !RUN,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const { fx, v } = await world();
    const pw = `${v.home}/passwd.cdb`;
    const same = (args: string[], extra: Record<string, string> = {}) =>
      compareModules("cvm-vmailmgr", args, { ...fx.env, ...extra });
    try {
      const md5 = await hash("md5pw", "$1$abcdefgh");
      const sha = await hash("shapw", "$6$saltsalt");
      const des = await hash("despw", "ab");
      await passwdCdb(pw, [
        ["bob", entry({ password: "$0$secret", mailbox: "./users/bob" })],
        ["md5", entry({ password: md5, mailbox: "./users/md5" })],
        ["sha", entry({ password: sha, mailbox: "users/sha/" })],
        ["des", entry({ password: des, mailbox: "/var/abs/./x/../des" })],
        ["plain", entry({ password: "plaintext" })],
        ["empty", entry({ password: "" })],
        ["v1", entry({ format: 1, password: "$0$one", mailbox: "./v1" })],
        ["old", encoder.encode(":$0$oldpw:./users/old:more:fields")],
        ["oldcrypt", encoder.encode(`:${des}:./users/oldcrypt`)],
        ["oldnocolon", encoder.encode(":$0$x")],
        ["oldempty", encoder.encode(":$0$x:")],
        ["noprefix", encoder.encode("x:./y")],
        ["fwd", entry({ password: "$0$f", mailbox: "", forwards: ["a@b"] })],
        ["bob.smith", entry({ password: "$0$p", mailbox: "./users/bs" })],
        ["bob-x", entry({ password: "$0$p", mailbox: "./users/bx" })],
        ["Upper", entry({ password: "$0$p" })],
        ["+", entry({ password: "$0$catch", mailbox: "./users/catch" })],
        ["", entry({ password: "$0$nameless", mailbox: "./users/nameless" })],
        ["alt", entry({ password: "$0$alt", mailbox: "./users/alt" })],
        ["kate", entry({ password: "$0$katepw", mailbox: "./users/kate" })],
      ], v);

      await t.step("passwords: $0$, $1$, crypt; wrong; missing", async () => {
        assertEquals((await same(["bob", "virt.test", "secret"])).code, 0);
        assertEquals((await same(["bob", "virt.test", "wrong"])).code, 100);
        await same(["BOB", "VIRT.test", "secret"]);
        await same(["bob", "virt.test"]);
        await same(["md5", "virt.test", "md5pw"]);
        await same(["md5", "virt.test", "x"]);
        await same(["sha", "virt.test", "shapw"]);
        await same(["des", "virt.test", "despw"]);
        await same(["plain", "virt.test", "plaintext"]);
        await same(["empty", "virt.test", "x"]);
        await same(["empty", "virt.test"]);
        await same(["nobody", "virt.test", "x"]);
      });

      await t.step(
        "names fold ASCII only: a Kelvin sign is not k",
        async () => {
          assertEquals((await same(["KATE", "virt.test", "katepw"])).code, 0);
          assertEquals(
            (await same(["\u212Aate", "virt.test", "katepw"])).code,
            100,
          );
          assertEquals(
            (await same(["\u212AATE", "virt.test", "katepw"])).code,
            100,
          );
        },
      );

      await t.step("entry formats 1 and old; broken entries", async () => {
        await same(["v1", "virt.test", "one"]);
        await same(["old", "virt.test", "oldpw"]);
        await same(["old", "virt.test", "$0$oldpw"]);
        await same(["oldcrypt", "virt.test", "despw"]);
        await same(["oldnocolon", "virt.test", "x"]);
        await same(["oldempty", "virt.test", "x"]);
        await same(["noprefix", "virt.test", "x"]);
        await same(["fwd", "virt.test", "f"]);
        await same(["bob.smith", "virt.test", "p"]);
        await same(["Bob-X", "virt.test", "p"]);
        await same(["upper", "virt.test", "p"]);
      });

      await t.step(
        "domains: virtual, suffix, local user-ext, foreign",
        async () => {
          await same(["bob", "a.sub.test", "secret"]);
          await same([`${v.name}-bob`, "local.test", "secret"]);
          await same([`${v.name}-`, "local.test", "nameless"]);
          await same([v.name, "local.test", "x"]);
          await same(["bob", "foreign.test", "secret"]);
          await same(["bob", "other.test", "secret"]); // no passwd.cdb there
          await same(["bob", "", "secret"]);
          await same(["bob", "foreign.test", "secret"], {
            CVM_QMAIL_ASSUME_LOCAL: "",
          });
          await same([`${v.name}-bob`, "foreign.test", "secret"], {
            CVM_QMAIL_ASSUME_LOCAL: "1",
          });
          await same(["x", "foreign.test", "secret"], {
            CVM_QMAIL_MISSINGDOMAIN: "",
            CVM_QMAIL_MISSINGUSER: `${v.name}-bob`,
          });
        },
      );

      await t.step(
        "users/cdb entries: the virtual user is what follows the prefix",
        async () => {
          await fx.usersCdb([
            ["!exact\0", `${v.name}\0${v.uid}\0${v.gid}\0${v.home}\0-\0bob\0`],
            ["!nodash\0", `${v.name}\0${v.uid}\0${v.gid}\0${v.home}\0\0bob\0`],
            usersWild("w-", v, "-", "B"),
            usersWild("", v, "-", "x"),
          ]);
          for (
            const [who, pass] of [
              ["exact", "secret"],
              ["nodash", "secret"],
              ["w-bob", "secret"],
              ["W-BOB", "secret"],
              ["w-", "nameless"],
              ["bob", "secret"],
              ["zzz", "x"],
            ]
          ) {
            await same([who, "local.test", pass]);
          }
          await fx.usersCdb(undefined);
        },
      );

      await t.step("the alias catch-all", async () => {
        const alias = await fx.ensureAlias();
        if (!alias.home.startsWith(fx.root)) return; // not ours to fill
        await passwdCdb(`${alias.home}/passwd.cdb`, [
          ["zzz", entry({ password: "$0$z" })],
        ], alias);
        await same(["zzz", "local.test", "z"]);
        await same(["ZZZ", "local.test", "z"]);
        await same(["yyy", "local.test", "z"]);
      });

      await t.step("lookup mode and VMAILMGR_DEFAULT", async () => {
        const lookup = { CVM_LOOKUP_SECRET: "" };
        await same(["bob", "virt.test"], lookup);
        await same(["nobody", "virt.test"], lookup);
        await same(["nobody", "virt.test"], {
          ...lookup,
          VMAILMGR_DEFAULT: "alt",
        });
        await same(["nobody", "virt.test"], {
          ...lookup,
          VMAILMGR_DEFAULT: "",
        });
        await same(["nobody", "virt.test"], {
          ...lookup,
          VMAILMGR_DEFAULT: "none",
        });
        await same(["nobody", "virt.test", "catch"]);
        await same(["bob", "virt.test"], { CVM_LOOKUP_SECRET: "s" });
      });

      await t.step("VMAILMGR_PWFILE", async () => {
        Deno.mkdirSync(`${v.home}/sub`, { recursive: true });
        Deno.copyFileSync(pw, `${v.home}/sub/pw.cdb`);
        for (
          const file of [
            "sub/pw.cdb",
            "./sub/../passwd.cdb",
            pw,
            "",
            "sub",
            "nodir/x.cdb",
            "passwd.cdb/x",
            "missing.cdb",
          ]
        ) {
          await same(["bob", "virt.test", "secret"], {
            VMAILMGR_PWFILE: file,
          });
        }
      });

      await t.step("broken password files and homes", async () => {
        const keep = Deno.readFileSync(pw);
        Deno.writeFileSync(pw, new Uint8Array(100));
        await same(["bob", "virt.test", "secret"]);
        Deno.writeFileSync(pw, new Uint8Array(0));
        await same(["bob", "virt.test", "secret"]);
        Deno.removeSync(pw);
        Deno.mkdirSync(pw);
        await same(["bob", "virt.test", "secret"]);
        Deno.removeSync(pw);
        Deno.writeFileSync(pw, keep);
        const f = await fx.addUser(`m${fx.tag}f`, {
          home: `${fx.root}/control/locals`,
          makeHome: false,
        });
        await same([`${f.name}-bob`, "local.test", "secret"]);
        const g = await fx.addUser(`m${fx.tag}g`, {
          home: `${fx.root}/home/none`,
          makeHome: false,
        });
        await same([`${g.name}-bob`, "local.test", "secret"]);
      });

      await t.step("mailbox paths against various homes", async () => {
        const mailboxes = [
          "",
          "./",
          ".",
          "../x",
          "../../../../../../x/",
          "a/b/../c",
          "a//b",
          "/",
          "/a/../../b/",
          "//a",
          "~/x",
        ];
        await passwdCdb(
          pw,
          mailboxes.map((
            m,
            i,
          ) => [`m${i}`, entry({ password: "$0$p", mailbox: m })]),
          v,
        );
        for (
          const home of [v.home, `${v.home}/`, `${v.home}//`, `${v.home}/.`]
        ) {
          await fx.usersCdb([usersWild("ts-", { ...v, home }, "-", "")]);
          for (let i = 0; i < mailboxes.length; i++) {
            await same([`ts-m${i}`, "local.test", "p"]);
          }
        }
        await fx.usersCdb(undefined);
      });

      await t.step("number fields", async () => {
        const cases = [
          ["x", "-", "-", "-", "-", "-"],
          ["-", "-", "-", "-", "-"],
          ["-", "-", "-", "-", "-", "-", "-"],
          ["", "", "", "", "", ""],
          ["5", "6", "7", "8", "9", "1"],
          ["12x", "-", "-", "-", "-", "-"],
          [" 5", "-", "-", "-", "-", "-"],
          ["+5", "-", "-", "-", "-", "-"],
          ["-5", "-", "-", "-", "-", "-"],
          ["--", "-", "-", "-", "-", "-"],
          ["99999999999999999999", "-", "-", "-", "-", "-"],
        ];
        const records: TextRecord[] = cases.map((
          numbers,
          i,
        ) => [`n${i}`, entry({ password: "$0$p", numbers })]);
        records.push([
          "trailing",
          new Uint8Array([...entry({ password: "$0$p" }), 0x41]),
        ]);
        records.push(["truncated", encoder.encode("\x02\x00$0$t\x00./t")]);
        records.push(["short", new Uint8Array([2])]);
        records.push(["nothing", new Uint8Array(0)]);
        records.push([
          "v3",
          new Uint8Array([3, ...entry({ password: "$0$p" }).subarray(2)]),
        ]);
        await passwdCdb(pw, records, v);
        for (const [key] of records) {
          await same([String(key), "virt.test", "p"]);
        }
      });

      await t.step("flags and VMAILMGR_LOCK_DISABLED", async () => {
        const combos: Array<[string, EntrySpec]> = [
          ["none", { password: "$0$p" }],
          ["nombox", { password: "$0$p", mailbox: "" }],
          ["f8n", { password: "$0$p", flags: [[8, 0]] }],
          ["f8y", { password: "$0$p", flags: [[8, 1]] }],
          ["f8v5", { password: "$0$p", flags: [[8, 5]] }],
          ["f10n", { password: "$0$p", flags: [[10, 0]] }],
          ["f10y", { password: "$0$p", flags: [[10, 1]] }],
          ["f10y-empty", { password: "$0$p", mailbox: "", flags: [[10, 1]] }],
          ["f8y-empty", { password: "$0$p", mailbox: "", flags: [[8, 1]] }],
          ["f8y10n", { password: "$0$p", flags: [[8, 1], [10, 0]] }],
          ["f10y8n", { password: "$0$p", flags: [[10, 1], [8, 0]] }],
          ["f8n8y", { password: "$0$p", flags: [[8, 0], [8, 1]] }],
          ["f9", { password: "$0$p", flags: [[9, 0]] }],
          ["f1", { password: "$0$p", flags: [[1, 1]] }],
          ["v1-empty", { format: 1, password: "$0$p", mailbox: "" }],
        ];
        const records: TextRecord[] = combos.map(([k, s]) => [k, entry(s)]);
        records.push(["old-empty", encoder.encode(":$0$p:")]);
        records.push(["old", encoder.encode(":$0$p:./o")]);
        records.push(["+", entry({ password: "$0$p", flags: [[8, 0]] })]);
        await passwdCdb(pw, records, v);
        for (const [key] of records) {
          for (const lock of [undefined, "1", ""]) {
            const extra: Record<string, string> = lock === undefined
              ? {}
              : { VMAILMGR_LOCK_DISABLED: lock };
            await same([String(key), "virt.test", "p"], extra);
          }
        }
        await same(["nobody", "virt.test"], {
          CVM_LOOKUP_SECRET: "",
          VMAILMGR_LOCK_DISABLED: "1",
        });
        await same(["f8n", "virt.test"], {
          CVM_LOOKUP_SECRET: "",
          VMAILMGR_LOCK_DISABLED: "1",
        });
      });

      await t.step(
        "random flag combinations under VMAILMGR_LOCK_DISABLED",
        async () => {
          const records: TextRecord[] = [];
          for (let i = 0; i < 24; i++) {
            const flags: Array<[number, number]> = [];
            const n = Math.floor(Math.random() * 3);
            for (let j = 0; j < n; j++) {
              flags.push([
                Math.random() < 0.5 ? 8 : 10,
                Math.floor(Math.random() * 3),
              ]);
            }
            const mailbox = Math.random() < 0.3 ? "" : "./m";
            records.push([
              `r${i}`,
              entry({ password: "$0$p", mailbox, flags }),
            ]);
          }
          await passwdCdb(pw, records, v);
          for (const [key] of records) {
            await same([String(key), "virt.test", "p"], {
              VMAILMGR_LOCK_DISABLED: "1",
            });
          }
        },
      );
    } finally {
      await fx.cleanup();
    }
  },
});
