/**
 * Server modes of the qmail-based modules follow edits of their files
 * without a restart, within a second (they look at a file at most once a
 * second): control/locals, control/virtualdomains, users/cdb,
 * the .qmail files, a domain's passwd.cdb and vpopmail's files; and they
 * log one line per request.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  eventually,
  run,
  startServer,
} from "../../_helpers.ts";
import {
  canRunQmailTests,
  entry,
  QmailFixture,
  usersExact,
  writeCdbChecked,
} from "./_fixture.ts";

const RUN = canRunQmailTests([]);

async function ask(module: string, args: string[]) {
  const out = await run(`${dist}/cvm-testclient`, [module, ...args]);
  return { code: out.code, stdout: out.stdout };
}

/** Asks until the answer has `code` (a server sees a change within a second). */
function askUntil(module: string, args: string[], code: number) {
  return eventually(() => ask(module, args), (r) => r.code === code);
}

/** Asks until the answer prints `stdout`. */
function askUntilSaid(module: string, args: string[], stdout: string) {
  return eventually(() => ask(module, args), (r) => r.stdout === stdout);
}

Deno.test({
  name: "cvm-qmail-local re-reads control files, users/cdb and .qmail files",
  ignore: !RUN,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureDist();
    const fx = QmailFixture.create();
    const socket = `${fx.root}/qmail.sock`;
    const a = await fx.addUser(`r${fx.tag}a`);
    const v = await fx.addUser(`r${fx.tag}v`);
    fx.control("locals", "local.test\n");
    const server = await startServer(`${dist}/cvm-qmail-local`, [socket], {
      ...fx.env,
      CVM_LOOKUP_SECRET: "",
    });
    const module = `cvm-local:${socket}`;
    try {
      assertEquals((await ask(module, [a.name, "local.test"])).code, 0);
      assertEquals((await ask(module, [a.name, "new.test"])).code, 100);
      fx.control("locals", "local.test\nnew.test\n");
      assertEquals((await askUntil(module, [a.name, "new.test"], 0)).code, 0);

      assertEquals(
        (await ask(module, ["bob", "virt.test"])).stdout,
        "out of scope:     1\n",
      );
      fx.control("virtualdomains", `virt.test:${v.name}\n`);
      assertEquals(
        (await askUntilSaid(
          module,
          ["bob", "virt.test"],
          "out of scope:     0\n",
        )).stdout,
        "out of scope:     0\n",
      );
      Deno.writeTextFileSync(`${v.home}/.qmail-default`, "./Maildir/\n");
      assertEquals((await askUntil(module, ["bob", "virt.test"], 0)).code, 0);

      assertEquals((await ask(module, ["alias1", "local.test"])).code, 100);
      await fx.usersCdb([usersExact("alias1", a)]);
      const found = await askUntil(module, ["alias1", "local.test"], 0);
      assertEquals(found.code, 0);
      assertEquals(found.stdout.split("\n")[0], `user name:        ${a.name}`);
      await fx.usersCdb([usersExact("alias1", { ...a, uid: 77 })]);
      assertEquals(
        (await eventually(
          () => ask(module, ["alias1", "local.test"]),
          (r) => r.stdout.split("\n")[1] === "user ID:          77",
        )).stdout.split("\n")[1],
        "user ID:          77",
      );
      await fx.usersCdb(undefined);
      assertEquals(
        (await askUntil(module, ["alias1", "local.test"], 100)).code,
        100,
      );
      fx.control("locals", "");
      assertEquals(
        (await askUntil(module, [a.name, "local.test"], 100)).code,
        100,
      );
    } finally {
      await server.stop();
      await fx.cleanup();
    }
    assertEquals(server.log[0], "Starting.");
    assertEquals(server.log.includes(`+ ${a.name}@new.test`), true);
    assertEquals(server.log.includes("- bob@virt.test"), true);
    assertEquals(server.log.at(-1), "Stopping.");
  },
});

Deno.test({
  name: "cvm-vmailmgr-local and cvm-vchkpw-local re-read their password files",
  ignore: !RUN,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureDist();
    const fx = QmailFixture.create();
    const v = await fx.addUser(`r${fx.tag}m`);
    fx.control("virtualdomains", `virt.test:${v.name}\n`);
    const vmSocket = `${fx.root}/vm.sock`;
    const vpSocket = `${fx.root}/vp.sock`;
    const vm = await startServer(
      `${dist}/cvm-vmailmgr-local`,
      [vmSocket],
      fx.env,
    );
    const vp = await startServer(
      `${dist}/cvm-vchkpw-local`,
      [vpSocket],
      fx.env,
    );
    try {
      const vmModule = `cvm-local:${vmSocket}`;
      assertEquals(
        (await ask(vmModule, ["bob", "virt.test", "pw"])).stdout,
        "out of scope:     1\n",
      );
      const pw = `${v.home}/passwd.cdb`;
      await writeCdbChecked(`${pw}.new`, [[
        "bob",
        entry({ password: "$0$pw" }),
      ]]);
      Deno.renameSync(`${pw}.new`, pw);
      assertEquals(
        (await askUntil(vmModule, ["bob", "virt.test", "pw"], 0)).code,
        0,
      );
      await writeCdbChecked(`${pw}.new`, [[
        "bob",
        entry({ password: "$0$new" }),
      ]]);
      Deno.renameSync(`${pw}.new`, pw);
      assertEquals(
        (await askUntil(vmModule, ["bob", "virt.test", "pw"], 100)).code,
        100,
      );
      assertEquals((await ask(vmModule, ["bob", "virt.test", "new"])).code, 0);

      const vpModule = `cvm-local:${vpSocket}`;
      const dir = `${fx.root}/vpop/virt.test`;
      Deno.mkdirSync(dir, { recursive: true });
      assertEquals(
        (await ask(vpModule, ["bob", "virt.test", "pw"])).stdout,
        "out of scope:     1\n",
      );
      Deno.writeTextFileSync(
        `${fx.root}/users/assign`,
        `+virt.test-:${v.name}:${v.uid}:${v.gid}:${dir}:-::\n.\n`,
      );
      assertEquals(
        (await ask(vpModule, ["bob", "virt.test", "pw"])).stdout,
        "out of scope:     1\n",
      );
      Deno.writeTextFileSync(
        `${dir}/vpasswd`,
        `bob:${await des("pw")}:1:0:Bob:${dir}/bob:NOQUOTA\n`,
      );
      assertEquals(
        (await askUntil(vpModule, ["bob", "virt.test", "pw"], 0)).code,
        0,
      );
      Deno.writeTextFileSync(
        `${dir}/vpasswd.new`,
        `bob:${await des("other")}:1:0:Bob:${dir}/bob:NOQUOTA\n`,
      );
      Deno.renameSync(`${dir}/vpasswd.new`, `${dir}/vpasswd`);
      assertEquals(
        (await askUntil(vpModule, ["bob", "virt.test", "pw"], 100)).code,
        100,
      );
      assertEquals(
        (await ask(vpModule, ["bob", "virt.test", "other"])).code,
        0,
      );
    } finally {
      await vm.stop();
      await vp.stop();
      await fx.cleanup();
    }
  },
});

async function des(password: string): Promise<string> {
  const { crypt } = await import("../../../sys/crypt.ts");
  return (await crypt(new TextEncoder().encode(password), "ab"))!;
}
