/**
 * Timing does not tell which accounts exist, in the crypt modes of
 * cvm-pwfile, cvm-unix, cvm-pgsql, cvm-vmailmgr and cvm-vchkpw: an unknown
 * account, or a locked one, takes as long as a wrong password for a real
 * one (before, 0.4 ms against 40 ms for yescrypt). Each kind of request is
 * asked in turn many times and the medians are compared as ratios with a
 * generous margin (the machine is shared), never as durations.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { authenticate } from "../../../clients/client.ts";
import { answerRequest } from "../../../modules/runtime/answer.ts";
import type { Backend } from "../../../modules/runtime/backend.ts";
import { createVchkpwBackend } from "../../../modules/qmail/vchkpw.ts";
import { createVmailmgrBackend } from "../../../modules/qmail/vmailmgr.ts";
import { CredentialType, encodeRequestV2 } from "../../../protocol/mod.ts";
import { crypt } from "../../../sys/crypt.ts";
import { dist, ensureDist, run, startServer, tempDir } from "../../_helpers.ts";
import {
  createPgSchema,
  PG,
  QUERY12,
  serviceAvailable,
  startCaptured,
} from "../sql/_helpers.ts";
import { accountRows } from "../sql/_scenarios.ts";
import { entry, QmailFixture, writeCdbChecked } from "../qmail/_fixture.ts";

const encoder = new TextEncoder();
const isRoot = Deno.uid() === 0;
const pgUp = await serviceAvailable("PostgreSQL", PG.port);
const options = { sanitizeOps: false, sanitizeResources: false };

/** How much slower one kind may be than another before it tells. */
const MARGIN = 3;

/** One kind of request: an account and a (wrong) password. */
type Probe = [account: string, password: string];

/** Asks once; the result code. */
type Ask = (account: string, password: string) => Promise<number>;

/**
 * Asks every probe in turn, `rounds` times after a warm-up, and returns
 * each probe's median time. Every answer must be a rejection.
 */
async function medians(
  ask: Ask,
  probes: Record<string, Probe>,
  rounds = 15,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (const name of Object.keys(probes)) times[name] = [];
  for (let round = -2; round < rounds; round++) {
    for (const [name, [account, password]] of Object.entries(probes)) {
      const start = performance.now();
      const code = await ask(account, password);
      const took = performance.now() - start;
      assertEquals(code, 100, `${name} must be rejected`);
      if (round >= 0) times[name].push(took);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(times)) {
    out[name] = list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
  }
  return out;
}

/** Every probe's median is within MARGIN of the wrong password's. */
function assertAlike(found: Record<string, number>, baseline = "wrong") {
  const shown = JSON.stringify(
    Object.fromEntries(
      Object.entries(found).map(([k, v]) => [k, Number(v.toFixed(2))]),
    ),
  );
  for (const [name, median] of Object.entries(found)) {
    const ratio = Math.max(median, found[baseline]) /
      Math.max(Math.min(median, found[baseline]), 1e-3);
    assert(ratio < MARGIN, `${name} vs ${baseline}: medians (ms) ${shown}`);
  }
}

/** Asks a module over its local socket, in-process. */
function localAsk(socket: string, domain?: string): Ask {
  return async (account, password) =>
    (await authenticate(`cvm-local:${socket}`, [
      { type: CredentialType.ACCOUNT, value: encoder.encode(account) },
      ...(domain === undefined
        ? []
        : [{ type: CredentialType.DOMAIN, value: encoder.encode(domain) }]),
      { type: CredentialType.PASSWORD, value: encoder.encode(password) },
    ], { env: {} })).code;
}

/** Asks a backend through the module runtime, in-process. */
function backendAsk(backend: Backend<unknown>, domain: string): Ask {
  return async (account, password) =>
    (await answerRequest(
      backend,
      encodeRequestV2(new Uint8Array(4), [
        { type: CredentialType.ACCOUNT, value: encoder.encode(account) },
        { type: CredentialType.DOMAIN, value: encoder.encode(domain) },
        { type: CredentialType.PASSWORD, value: encoder.encode(password) },
      ]),
      {},
    )).code;
}

async function hashOf(password: string, setting: string): Promise<string> {
  const hash = await crypt(encoder.encode(password), setting);
  if (hash === undefined) throw new Error(`crypt refused ${setting}`);
  return hash;
}

Deno.test({
  name:
    "cvm-pwfile-local (crypt): an unknown or locked account takes as long as a wrong password",
  ...options,
  fn: async () => {
    await ensureDist();
    const dir = tempDir();
    const yescrypt = await hashOf("kate-pw", "$y$j9T$wHYe35yrHT3D4Y0Gd9JRQ0$");
    Deno.writeTextFileSync(
      `${dir.path}/passwd`,
      [
        `kate:${yescrypt}:1001:100:Kate:/home/kate:/bin/sh`,
        "star:*:1002:100::/home/star:/bin/sh",
        `bang:!${yescrypt}:1003:100::/home/bang:/bin/sh`,
        "",
      ].join("\n"),
    );
    const server = await startServer(`${dist}/cvm-pwfile`, [
      `cvm-local:${dir.path}/s`,
    ], {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_PWFILE_PWCMP: "crypt",
    });
    try {
      assertAlike(
        await medians(localAsk(`${dir.path}/s`), {
          wrong: ["kate", "guess"],
          unknown: ["nobody", "guess"],
          star: ["star", "guess"],
          bang: ["bang", "kate-pw"],
        }),
      );
    } finally {
      await server.stop();
      dir.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-unix-local: an unknown or locked system account takes as long as a wrong password",
  ignore: !isRoot,
  ...options,
  fn: async () => {
    await ensureDist();
    const user = `cvmtime${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    const add = await run("useradd", ["-M", "-s", "/bin/false", user]);
    assertEquals(add.code, 0, add.stderr);
    const dir = tempDir();
    try {
      // chpasswd hashes with the system's scheme (yescrypt on Debian).
      const pw = await run("chpasswd", [], {
        stdin: encoder.encode(`${user}:Right-pw1\n`),
      });
      assertEquals(pw.code, 0, pw.stderr);
      // daemon's shadow entry is "*" on Debian.
      const server = await startServer(`${dist}/cvm-unix`, [
        `cvm-local:${dir.path}/s`,
      ], {});
      try {
        assertAlike(
          await medians(localAsk(`${dir.path}/s`), {
            wrong: [user, "guess"],
            unknown: [`${user}x`, "guess"],
            locked: ["daemon", "guess"],
          }),
        );
      } finally {
        await server.stop();
      }
    } finally {
      await run("userdel", [user]);
      dir.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-pgsql-local (crypt): an unknown account, or one whose stored password is no hash, takes as long as a wrong password",
  ignore: !pgUp,
  ...options,
  fn: async () => {
    await ensureDist();
    // carol's hash: SHA-512 at a cost the decoy must learn from the table.
    const hash = await hashOf("crypt pw", "$6$rounds=40000$saltsaltsalt$");
    const schema = await createPgSchema(accountRows(hash));
    const dir = tempDir();
    const server = await startCaptured(`${dist}/cvm-pgsql-local`, [
      `${dir.path}/s`,
    ], {
      ...schema.env,
      CVM_PGSQL_QUERY: QUERY12,
      CVM_PGSQL_PWCMP: "crypt",
    });
    try {
      assertAlike(
        await medians(localAsk(`${dir.path}/s`), {
          wrong: ["carol", "guess"],
          unknown: ["nobody", "guess"],
          // bob's stored "secret" is no crypt hash.
          unhashed: ["bob", "guess"],
        }),
      );
    } finally {
      await server.stop();
      await schema.drop();
      dir.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-vmailmgr and cvm-vchkpw (server modes): an unknown virtual user, or a locked one, takes as long as a wrong password",
  ignore: !isRoot,
  ...options,
  fn: async (t) => {
    const fx = QmailFixture.create();
    try {
      const hash = await hashOf("right", "$y$j9T$wHYe35yrHT3D4Y0Gd9JRQ0$");
      const v = await fx.addUser(`t${fx.tag}v`);
      fx.control("locals", "local.test\n");
      fx.control("virtualdomains", `virt.test:${v.name}\n`);
      await writeCdbChecked(`${v.home}/passwd.cdb`, [
        ["kate", entry({ password: hash })],
        ["bang", entry({ password: `!${hash}` })],
        ["plain", entry({ password: "$0$right" })],
      ]);
      await t.step("cvm-vmailmgr", async () => {
        const backend = createVmailmgrBackend(fx.env, { persistent: true });
        assertAlike(
          await medians(backendAsk(backend, "virt.test"), {
            wrong: ["kate", "guess"],
            unknown: ["nobody", "guess"],
            bang: ["bang", "right"],
          }),
        );
      });

      const dom = `${fx.root}/domains/example.test`;
      Deno.mkdirSync(dom, { recursive: true });
      Deno.writeTextFileSync(
        `${fx.root}/users/assign`,
        `+example.test-:vpopmail:89:90:${dom}:-::\n.\n`,
      );
      Deno.writeTextFileSync(
        `${dom}/vpasswd`,
        `kate:${hash}:1:0:Kate:${dom}/kate:NOQUOTA\n` +
          `bang:!${hash}:1:0:Bang:${dom}/bang:NOQUOTA\n`,
      );
      await t.step("cvm-vchkpw", async () => {
        const backend = createVchkpwBackend(fx.env, { persistent: true });
        assertAlike(
          await medians(backendAsk(backend, "example.test"), {
            wrong: ["kate", "guess"],
            unknown: ["nobody", "guess"],
            bang: ["bang", "right"],
          }),
        );
      });
    } finally {
      await fx.cleanup();
    }
  },
});
