/**
 * The cvm-ldap programs against the test slapd, as an admin runs them:
 * command mode, cvm-ldap-local and cvm-ldap-udp driven by Debian's
 * cvm-testclient (and ours, byte for byte the same); a refused service
 * password (CONFIG naming the variable in every mode); slapd stopped and
 * restarted, and hung with SIGSTOP, under a running server (temporary
 * failures, then recovery without restarting the module); and no secret
 * in any output.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import {
  dist,
  ensureDist,
  freeUdpPort,
  REF,
  run,
  type RunResult,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";
import { bindEnv, compareEnv } from "./_ask.ts";
import {
  GROUPS,
  READER_PW,
  SEARCHER_PW,
  type Slapd,
  slapdAvailable,
  startSlapd,
} from "./_slapd.ts";

const available = slapdAvailable();
const REF_TESTCLIENT = `${REF}/cvm-testclient`;
const haveReference = available && (() => {
  try {
    Deno.statSync(REF_TESTCLIENT);
    return true;
  } catch {
    if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") {
      throw new Error(`${REF_TESTCLIENT} is required`);
    }
    console.log(`skip: ${REF_TESTCLIENT} is not installed (the reference)`);
    return false;
  }
})();
const options = {
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
};

/** What cvm-testclient prints for alice with the group search on. */
const ALICE = [
  "user name:        alice",
  "user ID:          1001",
  "group ID:         100",
  "real name:        Alice Example",
  "directory:        /home/alice",
  "shell:            /bin/bash",
  "group name:       (null)",
  "system user name: (null)",
  "system directory: (null)",
  "domain:           example.com",
  "mailbox path:     (null)",
].join("\n");

/** Every secret the tests hand out; none may ever be printed. */
const SECRETS = [SEARCHER_PW, READER_PW, "alice-pw", "wrong-pw"];

function assertNoSecret(...texts: string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) {
      assert(!text.includes(secret), `a secret was printed: ${text}`);
    }
  }
}

/** The module's environment for the programs (nothing of the test's own). */
function moduleEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    CVM_LDAP_GROUP_BASE: GROUPS,
    ...env,
  };
}

async function testclient(
  client: string,
  module: string,
  account: string,
  password: string,
  env: Record<string, string>,
): Promise<RunResult> {
  const out = await run(client, [module, account, "", password], {
    env: moduleEnv(env),
    clearEnv: true,
  });
  assertNoSecret(out.stdout, out.stderr);
  return out;
}

/** The testclient's stdout for alice: the facts, then her groups (any order). */
function aliceLines(stdout: string): { facts: string; groups: string[] } {
  const lines = stdout.trimEnd().split("\n");
  return {
    facts: lines.slice(0, 11).join("\n"),
    groups: lines.slice(11).sort(),
  };
}

const ALICE_GROUPS = ["supp. group ID:   200", "supp. group ID:   300"];

Deno.test({
  name: "cvm-ldap programs against a real slapd",
  ...options,
  fn: async (t) => {
    await ensureDist();
    const slapd: Slapd = await startSlapd();
    const dir = tempDir();
    const clients = haveReference
      ? [REF_TESTCLIENT, `${dist}/cvm-testclient`]
      : [`${dist}/cvm-testclient`];
    try {
      const modes: {
        name: string;
        start: (env: Record<string, string>) => Promise<
          { module: string; server?: Server }
        >;
      }[] = [
        {
          name: "command mode",
          start: () => Promise.resolve({ module: `${dist}/cvm-ldap` }),
        },
        {
          name: "cvm-local:",
          start: async (env) => {
            const socket = `${dir.path}/ldap.sock`;
            const server = await startServer(
              `${dist}/cvm-ldap-local`,
              [socket],
              moduleEnv(env),
              { clearEnv: true },
            );
            return { module: `cvm-local:${socket}`, server };
          },
        },
        {
          name: "cvm-udp:",
          start: async (env) => {
            const port = await freeUdpPort();
            const server = await startServer(
              `${dist}/cvm-ldap-udp`,
              ["127.0.0.1", String(port)],
              moduleEnv(env),
              { clearEnv: true },
            );
            return { module: `cvm-udp:127.0.0.1:${port}`, server };
          },
        },
      ];
      for (const mode of modes) {
        for (
          const [auth, env] of [
            ["bind", bindEnv(slapd)],
            ["compare", compareEnv(slapd)],
          ] as const
        ) {
          await t.step(
            `${mode.name}, ${auth} mode: cvm-testclient prints the facts (0), a wrong password is 100 with out-of-scope 0, and the log says + and -`,
            async () => {
              const { module, server } = await mode.start(env);
              try {
                for (const client of clients) {
                  const ok = await testclient(
                    client,
                    module,
                    "alice",
                    "alice-pw",
                    env,
                  );
                  assertEquals(ok.code, 0, ok.stderr);
                  assertEquals(aliceLines(ok.stdout), {
                    facts: ALICE,
                    groups: ALICE_GROUPS,
                  });
                  const wrong = await testclient(
                    client,
                    module,
                    "alice",
                    "wrong-pw",
                    env,
                  );
                  assertEquals(
                    [wrong.code, wrong.stdout, wrong.stderr],
                    [
                      100,
                      "out of scope:     0\n",
                      "cvm-testclient: Authentication failed, error #100 (Credentials rejected)\n",
                    ],
                  );
                }
                if (server) {
                  const lines = await server.waitForLines(
                    1 + 2 * clients.length,
                  );
                  assertEquals(
                    lines.slice(1),
                    clients.flatMap(() => ["+ alice", "- alice"]),
                  );
                  assertNoSecret(...lines, server.stderr());
                }
              } finally {
                await server?.stop();
              }
            },
          );
        }
      }

      await t.step(
        "a refused service password is CONFIG (6) naming the variable: command mode answers 6, the servers exit 6 at start",
        async () => {
          const pwFile = `${dir.path}/bindpw`;
          Deno.writeTextFileSync(pwFile, "not-the-password\n");
          for (
            const [variable, env] of [
              ["CVM_LDAP_BINDPW", {
                ...bindEnv(slapd),
                CVM_LDAP_BINDPW: "not-the-password",
              }],
              ["CVM_LDAP_BINDPW_FILE", {
                ...bindEnv(slapd),
                CVM_LDAP_BINDPW: "",
                CVM_LDAP_BINDPW_FILE: pwFile,
              }],
            ] as const
          ) {
            const command = await run(
              `${dist}/cvm-testclient`,
              [`${dist}/cvm-ldap`, "alice", "", "alice-pw"],
              { env: moduleEnv(env), clearEnv: true },
            );
            assertEquals(command.code, 6);
            assert(command.stderr.includes(`$${variable}`), command.stderr);
            const local = await run(
              `${dist}/cvm-ldap-local`,
              [`${dir.path}/refused.sock`],
              { env: moduleEnv(env), clearEnv: true },
            );
            assertEquals(local.code, 6);
            assert(local.stderr.includes(`$${variable}`), local.stderr);
            const udp = await run(
              `${dist}/cvm-ldap-udp`,
              ["127.0.0.1", String(await freeUdpPort())],
              { env: moduleEnv(env), clearEnv: true },
            );
            assertEquals(udp.code, 6);
            assert(udp.stderr.includes(`$${variable}`), udp.stderr);
            for (const out of [command, local, udp]) {
              assert(!out.stdout.includes("not-the-password"));
              assert(!out.stderr.includes("not-the-password"));
            }
          }
        },
      );

      await t.step(
        "slapd stopped under cvm-ldap-local: temporary failures (4, never 100); restarted: it answers again without a restart of the module",
        async () => {
          const env = bindEnv(slapd);
          const { module, server } = await modes[1].start(env);
          const ask = async (password = "alice-pw") =>
            (await testclient(
              `${dist}/cvm-testclient`,
              module,
              "alice",
              password,
              env,
            )).code;
          try {
            assertEquals(await ask(), 0);
            await slapd.stop();
            assertEquals([await ask(), await ask(), await ask("x")], [4, 4, 4]);
            await slapd.start();
            assertEquals([await ask(), await ask("x"), await ask()], [
              0,
              100,
              0,
            ]);
            assert(server!.running());
            assertNoSecret(server!.stderr());
          } finally {
            await server?.stop();
          }
        },
      );

      await t.step(
        "slapd hung (SIGSTOP) under cvm-ldap-local and in command mode: IO (4) within CVM_LDAP_TIMEOUT; after SIGCONT it answers again",
        async () => {
          const env = { ...bindEnv(slapd), CVM_LDAP_TIMEOUT: "0.5" };
          const { module, server } = await modes[1].start(env);
          const ask = async (where: string) =>
            (await testclient(
              `${dist}/cvm-testclient`,
              where,
              "alice",
              "alice-pw",
              env,
            )).code;
          try {
            assertEquals(await ask(module), 0);
            slapd.pause();
            try {
              assertEquals(await ask(module), 4);
              assertEquals(await ask(module), 4);
              assertEquals(await ask(`${dist}/cvm-ldap`), 4);
            } finally {
              slapd.resume();
            }
            assertEquals(await ask(module), 0);
            assertEquals(await ask(`${dist}/cvm-ldap`), 0);
            assert(server!.running());
          } finally {
            await server?.stop();
          }
        },
      );
    } finally {
      dir.cleanup();
      await slapd.close();
    }
  },
});
