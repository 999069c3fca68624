/**
 * SIGHUP (daemontools' `svc -h`, systemd's reload) asks a server to reopen
 * what it reads: it logs `Reloading.`, keeps its socket and keeps serving,
 * and a changed password file is seen.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import {
  dist,
  ensureDist,
  freeUdpPort,
  SAMPLE_PASSWD,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";

/** Sends SIGHUP and waits for the n-th `Reloading.` line. */
async function hangUp(server: Server, nth: number): Promise<void> {
  Deno.kill(server.pid, "SIGHUP");
  await server.waitFor(/^Reloading\.$/);
  for (let i = 0; i < 400; i++) {
    if (server.log.filter((l) => l === "Reloading.").length >= nth) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no Reloading. line #${nth}`);
}

interface Case {
  name: string;
  /** Starts the server; returns it and its module string. */
  start(dir: string, passwd: string): Promise<[Server, string]>;
  /** Whether its socket is still in place. */
  socketThere(dir: string): boolean;
}

const cases: Case[] = [
  {
    name: "cvm-pwfile on a local socket",
    async start(dir, passwd) {
      const server = await startServer(`${dist}/cvm-pwfile`, [
        `cvm-local:${dir}/s`,
      ], { CVM_PWFILE_PATH: passwd });
      return [server, `cvm-local:${dir}/s`];
    },
    socketThere: (dir) => Deno.statSync(`${dir}/s`).isSocket === true,
  },
  {
    name: "cvm-pwfile on UDP",
    async start(_dir, passwd) {
      const port = await freeUdpPort();
      const server = await startServer(`${dist}/cvm-pwfile-udp`, [
        "127.0.0.1",
        String(port),
      ], { CVM_PWFILE_PATH: passwd });
      return [server, `cvm-udp:127.0.0.1:${port}`];
    },
    // The port answers (checked by the logins); nothing to stat.
    socketThere: () => true,
  },
  {
    name: "cvm-chain on a local socket",
    async start(dir, passwd) {
      const server = await startServer(`${dist}/cvm-chain`, [
        `cvm-local:${dir}/s`,
      ], { CVM_PWFILE_PATH: passwd, CVM_CHAIN0: `${dist}/cvm-pwfile` });
      return [server, `cvm-local:${dir}/s`];
    },
    socketThere: (dir) => Deno.statSync(`${dir}/s`).isSocket === true,
  },
];

for (const c of cases) {
  Deno.test(`SIGHUP: ${c.name} logs Reloading., stays up and sees a changed password file`, async () => {
    await ensureDist();
    const dir = tempDir();
    const passwd = `${dir.path}/passwd`;
    Deno.writeTextFileSync(passwd, SAMPLE_PASSWD);
    const [server, module] = await c.start(dir.path, passwd);
    try {
      const login = (account: string, password: string) =>
        authenticatePassword(module, { account, password });
      assertEquals((await login("pwfuser", "secret")).code, 0);
      assertEquals((await login("newbie", "n3w")).code, 100);

      await hangUp(server, 1);
      assert.ok(server.running(), "alive after SIGHUP");
      assert.ok(c.socketThere(dir.path), "its socket is still there");
      assertEquals((await login("pwfuser", "secret")).code, 0);

      Deno.writeTextFileSync(
        passwd,
        SAMPLE_PASSWD + "newbie:n3w:2000:2000::/home/newbie:\n",
      );
      await hangUp(server, 2);
      const after = await login("newbie", "n3w");
      assertEquals(after.code, 0);
      assertEquals(after.facts.userid, 2000);
      assert.ok(server.running());

      assertEquals(await server.stop(), 0);
      assertEquals(server.log.at(-1), "Stopping.");
      assertEquals(server.log.filter((l) => l === "Reloading.").length, 2);
      assertEquals(server.stderr(), "");
    } finally {
      await server.stop();
      dir.cleanup();
    }
  });
}
