/**
 * Client-side chains across the qmail-based modules, ours against the
 * reference's: `cvm-pwfile,cvm-vmailmgr` for a local account, a virtual
 * user, an unknown user of a managed domain (rejected, in scope) and a
 * foreign domain (out of scope 1); and `cvm-qmail,cvm-vmailmgr` in lookup
 * mode, where a lookaside program hands the address to cvm-vmailmgr.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ensureDist } from "../../_helpers.ts";
import {
  canRunQmailTests,
  compareChains,
  entry,
  QmailFixture,
  writeCdbChecked,
} from "./_fixture.ts";

const RUN = canRunQmailTests(["cvm-vmailmgr", "cvm-pwfile", "cvm-qmail"]);

Deno.test({
  name: "chains through cvm-vmailmgr behave as the reference's",
  ignore: !RUN,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const v = await fx.addUser(`h${fx.tag}v`);
      fx.control("locals", "local.test\n");
      fx.control("virtualdomains", `virt.test:${v.name}\n`);
      await writeCdbChecked(`${v.home}/passwd.cdb`, [
        ["bob", entry({ password: "$0$secret", mailbox: "./users/bob" })],
      ]);
      Deno.writeTextFileSync(`${v.home}/.qmail-default`, "|vdeliver\n");
      const pwfile = `${fx.root}/cvm.passwd`;
      Deno.writeTextFileSync(
        pwfile,
        "alice:apw:2001:2002:Alice A,,,:/home/alice:/bin/sh\n",
      );
      const env = { ...fx.env, CVM_PWFILE_PATH: pwfile };
      const pwThenVm = ["cvm-pwfile", "cvm-vmailmgr"];
      const vmThenPw = ["cvm-vmailmgr", "cvm-pwfile"];

      await t.step("a local account: the first module answers", async () => {
        const out = await compareChains(pwThenVm, ["alice", "", "apw"], env);
        assertEquals(out.code, 0);
        await compareChains(vmThenPw, ["alice", "", "apw"], env);
        await compareChains(pwThenVm, ["alice", "", "wrong"], env);
      });

      await t.step("a virtual user: the second module answers", async () => {
        const out = await compareChains(
          pwThenVm,
          ["bob", "virt.test", "secret"],
          env,
        );
        assertEquals(out.code, 0);
        await compareChains(pwThenVm, ["bob@virt.test", "", "secret"], env);
        await compareChains(vmThenPw, ["bob", "virt.test", "secret"], env);
      });

      await t.step(
        "an unknown user of a managed domain: rejected in scope",
        async () => {
          const out = await compareChains(
            pwThenVm,
            ["nobody", "virt.test", "x"],
            env,
          );
          assertEquals([out.code, out.stdout], [100, "out of scope:     0\n"]);
          await compareChains(pwThenVm, ["bob", "virt.test", "wrong"], env);
          await compareChains(vmThenPw, ["nobody", "virt.test", "x"], env);
        },
      );

      await t.step("a foreign domain: out of scope", async () => {
        const out = await compareChains(
          pwThenVm,
          ["carol", "foreign.test", "x"],
          env,
        );
        assertEquals([out.code, out.stdout], [100, "out of scope:     1\n"]);
        await compareChains(vmThenPw, ["carol", "foreign.test", "x"], env);
      });

      await t.step(
        "cvm-qmail hands lookaside addresses to cvm-vmailmgr",
        async () => {
          const lookup = {
            ...env,
            CVM_LOOKUP_SECRET: "",
            CVM_QMAIL_LOOKASIDE: "vdeliver",
          };
          const chain = ["cvm-qmail", "cvm-vmailmgr"];
          const out = await compareChains(chain, ["bob", "virt.test"], lookup);
          assertEquals(out.code, 0);
          await compareChains(chain, ["nobody", "virt.test"], lookup);
          await compareChains(chain, ["bob", "foreign.test"], lookup);
          await compareChains(chain, ["bob", "virt.test"], {
            ...lookup,
            CVM_QMAIL_LOOKASIDE: "other",
          });
        },
      );
    } finally {
      await fx.cleanup();
    }
  },
});
