/**
 * VMAILMGR_AUTOCONVERT: after a login with an encrypted password the entry
 * is rewritten with the `$0$` plain text. Ours must write the same bytes
 * as the reference, keep owner and mode, leave no temporary file, and a
 * module killed between writing the new file and renaming it must leave
 * the original intact.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Cdb } from "../../../modules/cdb/reader.ts";
import { crypt } from "../../../sys/crypt.ts";
import { dist, ensureDist, run } from "../../_helpers.ts";
import {
  canRunQmailTests,
  entry,
  type FixtureUser,
  QmailFixture,
  REF,
  type TextRecord,
  writeCdbChecked,
} from "./_fixture.ts";

const RUN = canRunQmailTests(["cvm-vmailmgr"]);
const encoder = new TextEncoder();

async function hash(password: string, salt: string): Promise<string> {
  const h = await crypt(encoder.encode(password), salt);
  if (h === undefined) throw new Error(`crypt refused ${salt}`);
  return h;
}

/** Puts "ü" in ISO-8859-1 (not UTF-8) where the entry has "@". */
function latin1(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.indexOf(0x40)] = 0xfc;
  return out;
}

interface World {
  fx: QmailFixture;
  v: FixtureUser;
  path: string;
  original: Uint8Array;
}

async function world(): Promise<World> {
  await ensureDist();
  const fx = QmailFixture.create();
  const v = await fx.addUser(`c${fx.tag}v`);
  fx.control("virtualdomains", `virt.test:${v.name}\n`);
  const des = await hash("pw", "ab");
  const records: TextRecord[] = [
    ["plain", entry({ password: "$0$pw" })],
    [
      "full",
      entry({
        password: await hash("pw", "$6$saltsalt"),
        flags: [[8, 1], [10, 1]],
        forwards: ["a@b.test", "c@d.test"],
        personal: "Full Name",
        numbers: ["1", "2", "3", "4", "5", "-"],
      }),
    ],
    ["noflags", entry({ password: des, mailbox: "./users/nf" })],
    ["f8v5", entry({ password: des, flags: [[8, 5]] })],
    ["f10n", entry({ password: des, flags: [[10, 0]] })],
    ["empty", entry({ password: des, mailbox: "" })],
    ["md5", entry({ password: await hash("pw", "$1$abcdefgh") })],
    ["v1", entry({ format: 1, password: des, forwards: ["q@r.test"] })],
    [
      "nums",
      entry({
        password: des,
        numbers: [
          "007",
          "",
          "4294967295",
          "99999999999999999999",
          "4294967296",
          "-",
        ],
      }),
    ],
    ["latin1", latin1(entry({ password: des, personal: "J@rgen" }))],
    ["dup", entry({ password: des, mailbox: "./d1" })],
    ["dup", entry({ password: await hash("other", "cd"), mailbox: "./d2" })],
    ["other", new Uint8Array([9, 0x6a, 0x75, 0x6e, 0x6b])],
  ];
  const path = `${v.home}/passwd.cdb`;
  await writeCdbChecked(path, records);
  Deno.chownSync(path, v.uid, v.gid);
  Deno.chmodSync(path, 0o640);
  return { fx, v, path, original: Deno.readFileSync(path) };
}

function restore(w: World): void {
  Deno.writeFileSync(`${w.path}.restore`, w.original);
  Deno.chownSync(`${w.path}.restore`, w.v.uid, w.v.gid);
  Deno.chmodSync(`${w.path}.restore`, 0o640);
  Deno.renameSync(`${w.path}.restore`, w.path);
}

function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

async function login(
  dir: string,
  w: World,
  account: string,
  password: string | undefined,
  env: Record<string, string> = { VMAILMGR_AUTOCONVERT: "1" },
) {
  const args = [`${dir}/cvm-vmailmgr`, account, "virt.test"];
  if (password !== undefined) args.push(password);
  return await run(`${REF}/cvm-testclient`, args, {
    env: { ...w.fx.env, ...env },
  });
}

Deno.test({
  name: "VMAILMGR_AUTOCONVERT rewrites entries byte for byte as the reference",
  ignore: !RUN,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const w = await world();
    try {
      const cases: Array<
        [string, string | undefined, Record<string, string>?]
      > = [
        ["full", "pw"],
        ["noflags", "pw"],
        ["f8v5", "pw"],
        ["f10n", "pw"],
        ["empty", "pw"],
        ["md5", "pw"],
        ["v1", "pw"],
        ["nums", "pw"],
        ["latin1", "pw"],
        ["dup", "pw"],
        ["plain", "pw"], // already plain text: nothing to do
        ["full", "wrong"], // no login, no rewrite
        ["full", undefined, {
          VMAILMGR_AUTOCONVERT: "1",
          CVM_LOOKUP_SECRET: "",
        }],
        ["full", "pw", { VMAILMGR_AUTOCONVERT: "" }],
        ["full", "pw", {}],
      ];
      for (const [account, password, env] of cases) {
        await t.step(
          `${account} ${password} ${JSON.stringify(env)}`,
          async () => {
            restore(w);
            const ref = await login(REF, w, account, password, env);
            const refBytes = Deno.readFileSync(w.path);
            const refInfo = Deno.statSync(w.path);
            const refFiles = listing(w.v.home);
            restore(w);
            const ours = await login(dist, w, account, password, env);
            const ourBytes = Deno.readFileSync(w.path);
            const ourInfo = Deno.statSync(w.path);
            assertEquals(
              { code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
              { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
            );
            assertEquals(ourBytes, refBytes);
            // Not vacuous: a converting login did change the file.
            const used = env ?? { VMAILMGR_AUTOCONVERT: "1" };
            const converting = ref.code === 0 && password !== undefined &&
              account !== "plain" && used.VMAILMGR_AUTOCONVERT !== undefined &&
              used.CVM_LOOKUP_SECRET === undefined;
            const changed = ourBytes.length !== w.original.length ||
              !ourBytes.every((b, i) => b === w.original[i]);
            assertEquals(changed, converting);
            assertEquals(
              [ourInfo.uid, ourInfo.gid, ourInfo.mode! & 0o7777],
              [refInfo.uid, refInfo.gid, refInfo.mode! & 0o7777],
            );
            assertEquals(listing(w.v.home), refFiles);
            // The converted password now works as plain text.
            if (ours.code === 0 && password !== undefined) {
              const again = await login(dist, w, account, password, {});
              assertEquals(again.code, 0);
            }
          },
        );
      }

      await t.step(
        "old entries: converted by us (the reference fails with an I/O error)",
        async () => {
          const des = await hash("oldpw", "ab");
          await writeCdbChecked(w.path, [
            ["old", encoder.encode(`:${des}:./users/old:x`)],
            ["keep", entry({ password: "$0$k" })],
          ]);
          const out = await login(dist, w, "old", "oldpw");
          assertEquals(out.code, 0);
          const cdb = Cdb.fromBytes(Deno.readFileSync(w.path));
          assertEquals(
            new TextDecoder().decode(cdb.get("old")),
            ":$0$oldpw:./users/old:x",
          );
          assertEquals(cdb.get("keep"), entry({ password: "$0$k" }));
          assertEquals((await login(dist, w, "old", "oldpw", {})).code, 0);
        },
      );
    } finally {
      await w.fx.cleanup();
    }
  },
});

Deno.test({
  name:
    "VMAILMGR_AUTOCONVERT killed between writing and renaming leaves the original intact",
  ignore: !RUN || !haveStrace(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const w = await world();
    try {
      restore(w);
      const before = listing(w.v.home);
      // strace kills the module the moment it asks for the rename, after
      // the new file has been written and synced.
      const out = await run("strace", [
        "-f",
        "-o",
        "/dev/null",
        "-e",
        "trace=rename,renameat,renameat2",
        "-e",
        "inject=rename,renameat,renameat2:signal=SIGKILL",
        `${REF}/cvm-testclient`,
        `${dist}/cvm-vmailmgr`,
        "full",
        "virt.test",
        "pw",
      ], { env: { ...w.fx.env, VMAILMGR_AUTOCONVERT: "1" } });
      ok(out.code !== 0, "the killed module must not report success");
      assertEquals(Deno.readFileSync(w.path), w.original);
      const info = Deno.statSync(w.path);
      assertEquals([info.uid, info.mode! & 0o7777], [w.v.uid, 0o640]);
      // The half-done file was complete but never took the old one's place.
      const left = listing(w.v.home).filter((n) => !before.includes(n));
      ok(left.every((n) => n.startsWith("passwd.cdb.")), `left: ${left}`);
      for (const name of left) {
        const cdb = Cdb.fromBytes(Deno.readFileSync(`${w.v.home}/${name}`));
        ok(cdb.has("full"));
        Deno.removeSync(`${w.v.home}/${name}`);
      }
      // Nothing lost: the old password still works and converts now.
      const again = await login(dist, w, "full", "pw");
      assertEquals(again.code, 0);
      ok(
        new TextDecoder().decode(
          Cdb.fromBytes(Deno.readFileSync(w.path)).get("full"),
        ).includes("$0$pw"),
      );
    } finally {
      await w.fx.cleanup();
    }
  },
});

function haveStrace(): boolean {
  try {
    Deno.statSync("/usr/bin/strace");
    return true;
  } catch {
    console.log("skip: strace is not installed");
    return false;
  }
}
