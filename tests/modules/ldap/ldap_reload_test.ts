/**
 * SIGHUP and cvm-ldap: a running `cvm-ldap-local` logs `Reloading.`, drops
 * its connections to slapd (seen with `ss`: the old client ports are gone,
 * new ones serve the next request) and binds afresh, so a changed
 * `$CVM_LDAP_BINDPW_FILE` takes effect without a restart; a request that
 * is running when SIGHUP comes still gets its answer.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { ldapBackend, readLdapSettings } from "../../../modules/ldap/mod.ts";
import type { Directory } from "../../../modules/ldap/mod.ts";
import {
  dist,
  ensureDist,
  run,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";
import { ask, bindEnv } from "./_ask.ts";
import { SEARCHER_PW, slapdAvailable, startSlapd } from "./_slapd.ts";

const available = slapdAvailable();

/**
 * The local ports of the established TCP connections to 127.0.0.1:port
 * (only cvm-ldap-local connects to the test's own slapd).
 */
async function clientPorts(port: number): Promise<string[]> {
  const out = await run("/usr/bin/ss", [
    "-tnH",
    "state",
    "established",
    "dst",
    `127.0.0.1:${port}`,
  ]);
  assertEquals(out.code, 0, out.stderr);
  // Columns: Recv-Q Send-Q Local:Port Peer:Port.
  return out.stdout.trim().split("\n").filter((l) => l !== "").map((line) =>
    line.trim().split(/\s+/)[2]
  ).sort();
}

/** Polls until `check` holds (bounded; the caller asserts after). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends SIGHUP and waits for the n-th `Reloading.` line. */
async function hangUp(server: Server, nth: number): Promise<void> {
  Deno.kill(server.pid, "SIGHUP");
  await until(() =>
    Promise.resolve(
      server.log.filter((l) => l === "Reloading.").length >= nth,
    )
  );
  assertEquals(server.log.filter((l) => l === "Reloading.").length, nth);
}

Deno.test({
  name:
    "SIGHUP: cvm-ldap-local logs Reloading., closes its slapd connections, binds afresh with a changed $CVM_LDAP_BINDPW_FILE and keeps answering",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureDist();
    const slapd = await startSlapd();
    const dir = tempDir();
    const port = Number(new URL(slapd.uri).port);
    const pwFile = `${dir.path}/bindpw`;
    Deno.writeTextFileSync(pwFile, `${SEARCHER_PW}\n`);
    const env = {
      PATH: "/usr/bin:/bin",
      ...bindEnv(slapd),
      CVM_LDAP_BINDPW: "",
      CVM_LDAP_BINDPW_FILE: pwFile,
    };
    const socket = `${dir.path}/ldap.sock`;
    const server = await startServer(`${dist}/cvm-ldap-local`, [socket], env, {
      clearEnv: true,
    });
    const login = async (password = "alice-pw") =>
      (await run(`${dist}/cvm-testclient`, [
        `cvm-local:${socket}`,
        "alice",
        "",
        password,
      ])).code;
    try {
      assertEquals(await login(), 0);
      const before = await clientPorts(port);
      assert.ok(before.length > 0, "the server holds connections to slapd");

      await hangUp(server, 1);
      await until(async () =>
        (await clientPorts(port)).every((p) => !before.includes(p))
      );
      assertEquals(
        (await clientPorts(port)).filter((p) => before.includes(p)),
        [],
        "the old connections were closed",
      );
      assertEquals([await login(), await login("wrong-pw")], [0, 100]);
      const after = await clientPorts(port);
      assert.ok(after.length > 0, "new connections serve the next requests");
      assertEquals(after.filter((p) => before.includes(p)), []);

      // A service password that is now wrong: kept connections would go
      // on working; after SIGHUP the fresh bind is refused (CONFIG).
      Deno.writeTextFileSync(pwFile, "not-the-password\n");
      assertEquals(await login(), 0, "no reload yet: the bound pool serves");
      await hangUp(server, 2);
      assertEquals(await login(), 6);
      assert.ok(
        server.stderr().includes("$CVM_LDAP_BINDPW_FILE"),
        server.stderr(),
      );
      Deno.writeTextFileSync(pwFile, `${SEARCHER_PW}\n`);
      await hangUp(server, 3);
      assertEquals(await login(), 0);

      // A file that cannot be read at SIGHUP: a warning, and the server
      // keeps what it had.
      Deno.removeSync(pwFile);
      await hangUp(server, 4);
      assertEquals(await login(), 0);
      assert.ok(server.running());

      assertEquals(await server.stop(), 0);
      assertEquals(server.log, [
        "Starting.",
        "+ alice",
        "Reloading.",
        "+ alice",
        "- alice",
        "+ alice",
        "Reloading.",
        "? alice",
        "Reloading.",
        "+ alice",
        "Reloading.",
        "+ alice",
        "Stopping.",
      ]);
      const stderr = server.stderr();
      assert.ok(
        stderr.includes("reload: ") && stderr.includes("cannot read"),
        stderr,
      );
      for (const secret of [SEARCHER_PW, "not-the-password", "alice-pw"]) {
        assert.ok(!stderr.includes(secret), "a secret reached stderr");
        assert.ok(!server.log.join("\n").includes(secret));
      }
    } finally {
      await server.stop();
      dir.cleanup();
      await slapd.close();
    }
  },
});

Deno.test("ldapBackend(): reload() closes the old directory only after the request using it has answered", async () => {
  const events: string[] = [];
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const directory = (name: string, wait?: Promise<void>): Directory => ({
    async search() {
      events.push(`${name} search`);
      await wait;
      return [];
    },
    userBind: () => Promise.resolve(false),
    close() {
      events.push(`${name} closed`);
      return Promise.resolve();
    },
  });
  const backend = ldapBackend(
    readLdapSettings({ CVM_LDAP_URI: "ldap://unused", CVM_LDAP_BASE: "dc=x" }),
    directory("old", held),
    () => {},
    () => directory("new"),
  );
  const running = ask(backend, "alice", "pw");
  await new Promise((r) => setTimeout(r, 0));
  await backend.reload!();
  assertEquals(events, ["old search"]);
  release();
  assertEquals((await running).code, 100);
  assertEquals(events, ["old search", "old closed"]);
  assertEquals((await ask(backend, "alice", "pw")).code, 100);
  assertEquals(events, ["old search", "old closed", "new search"]);
  await backend.close!();
  assertEquals(events, [
    "old search",
    "old closed",
    "new search",
    "new closed",
  ]);
});
