/**
 * The policy layers on cvm-ldap-local, against the test slapd: the cache
 * answers a known password while slapd is down (stale, as Dovecot does) and
 * never a wrong one; the penalty slows a guesser and adds the address to
 * the log line; the access tables refuse a denied account before slapd is
 * asked.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import {
  dist,
  ensureDist,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";
import { bindEnv } from "./_ask.ts";
import { type Slapd, slapdAvailable, startSlapd } from "./_slapd.ts";

const available = slapdAvailable();

type Ask = (
  password: string,
  address?: string,
) => Promise<{ code: number; ms: number }>;

/**
 * Starts a slapd and cvm-ldap-local over it with `env` added, and gives
 * `fn` a way to ask for alice (from `address`, sent as credential 128).
 */
async function withModule(
  env: Record<string, string>,
  fn: (ask: Ask, server: Server, slapd: Slapd) => Promise<void>,
) {
  await ensureDist();
  const slapd = await startSlapd();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-ldap-local`, [socket], {
      ...bindEnv(slapd),
      ...env,
    });
    const ask: Ask = async (password, address) => {
      const started = performance.now();
      const r = await authenticatePassword(
        `cvm-local:${socket}`,
        { account: "alice", password },
        { env: address ? { CVM_CLIENT_ADDRESS: address } : {} },
      );
      return { code: r.code, ms: performance.now() - started };
    };
    await fn(ask, server, slapd);
  } finally {
    await server?.stop();
    await slapd.close();
    dir.cleanup();
  }
}

Deno.test({
  name:
    "cvm-ldap-local with CVM_CACHE_STALE: slapd down, a cached password still logs in (stale), a wrong one is a temporary failure, never 0",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withModule({
      CVM_LDAP_TIMEOUT: "1",
      // Expired at once, so the answer in the outage can only be the stale one.
      CVM_CACHE_TTL: "0.001",
      CVM_CACHE_STALE: "300",
    }, async (ask, server, slapd) => {
      assertEquals((await ask("alice-pw")).code, 0);
      await slapd.stop();
      assertEquals((await ask("alice-pw")).code, 0, "served stale");
      assertEquals((await ask("wrong-pw")).code, 4, "never cached: try later");
      await slapd.start();
      assertEquals((await ask("wrong-pw")).code, 100);
      await server.waitForLines(5);
      assertEquals(server.log.slice(1, 5), [
        "+ alice",
        "+ alice stale",
        "? alice",
        "- alice",
      ]);
    });
  },
});

Deno.test({
  name:
    "cvm-ldap-local with CVM_PENALTY: a second wrong guess from one address waits, the address is in the log",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withModule(
      { CVM_PENALTY: "1", CVM_PENALTY_BASE: "0.6" },
      async (ask, server) => {
        const first = await ask("guess-1", "192.0.2.7");
        const second = await ask("guess-2", "192.0.2.7");
        assertEquals([first.code, second.code], [100, 100]);
        // A lower bound only: load makes things slower, never faster.
        assert(second.ms - first.ms > 600 * 0.6, `${second.ms} ${first.ms}`);
        assertEquals((await ask("alice-pw", "192.0.2.7")).code, 0);
        await server.waitForLines(4);
        assertEquals(server.log.slice(1, 4), [
          "- alice 192.0.2.7",
          "- alice 192.0.2.7",
          "+ alice 192.0.2.7",
        ]);
      },
    );
  },
});

Deno.test({
  name:
    "cvm-ldap-local with CVM_ACCESS: a denied account is refused with its right password",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const access = `${Deno.makeTempDirSync()}`;
    try {
      Deno.mkdirSync(`${access}/deny`);
      Deno.writeTextFileSync(`${access}/deny/alice`, "");
      await withModule({ CVM_ACCESS: access }, async (ask, server) => {
        assertEquals((await ask("alice-pw")).code, 100);
        Deno.removeSync(`${access}/deny/alice`);
        assertEquals((await ask("alice-pw")).code, 0);
        await server.waitForLines(3);
        assertEquals(server.log.slice(1, 3), ["- alice", "+ alice"]);
      });
    } finally {
      Deno.removeSync(access, { recursive: true });
    }
  },
});
