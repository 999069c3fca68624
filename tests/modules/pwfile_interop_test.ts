/**
 * Ours against the reference (Debian's cvm), both directions: every pairing
 * of client and module must print the same bytes and exit the same way.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  freeUdpPort,
  have,
  REF,
  run,
  type RunResult,
  SAMPLE_PASSWD,
  startServer,
  tempDir,
} from "../_helpers.ts";

interface Case {
  name: string;
  /** testclient arguments after the module. */
  args: string[];
  env?: Record<string, string>;
  v1?: boolean;
}

const CASES: Case[] = [
  { name: "success", args: ["pwfuser", "", "secret"] },
  { name: "success with empty optional facts", args: ["bob", "", "pw2"] },
  { name: "case-insensitive account", args: ["BOB", "", "pw2"] },
  { name: "wrong password", args: ["pwfuser", "", "wrong"] },
  { name: "unknown user", args: ["nobody", "", "x"] },
  { name: "no password (NOCRED)", args: ["pwfuser", ""] },
  { name: "account split at @", args: ["bob@example.org", "", "pw2"] },
  {
    name: "split chars from the environment",
    args: ["bob%example.org", "", "pw2"],
    env: { CVM_ACCOUNT_SPLIT_CHARS: "%" },
  },
  { name: "explicit domain", args: ["bob", "example.org", "pw2"] },
  {
    name: "lookup mode with an empty secret",
    args: ["bob", ""],
    env: { CVM_LOOKUP_SECRET: "" },
  },
  {
    name: "lookup mode with the right secret",
    args: ["bob", ""],
    env: { CVM_LOOKUP_SECRET: "s3cret" },
  },
  {
    name: "lookup mode unknown user",
    args: ["zed", ""],
    env: { CVM_LOOKUP_SECRET: "s3cret" },
  },
  { name: "v1 success", args: ["bob", "", "pw2"], v1: true },
  { name: "v1 wrong password", args: ["bob", "", "bad"], v1: true },
  { name: "v1 does not split", args: ["bob@x.org", "", "pw2"], v1: true },
  { name: "v1 without credential", args: ["bob", ""], v1: true },
];

function client(ours: boolean, v1: boolean): string {
  const name = v1 ? "cvm-v1testclient" : "cvm-testclient";
  return ours ? `${dist}/${name}` : `${REF}/${name}`;
}

async function compare(
  expected: RunResult,
  actual: RunResult,
  what: string,
): Promise<void> {
  assertEquals(
    { code: actual.code, stdout: actual.stdout, stderr: actual.stderr },
    { code: expected.code, stdout: expected.stdout, stderr: expected.stderr },
    what,
  );
  await Promise.resolve();
}

Deno.test("command mode: our client and module print exactly what the reference's do, in every pairing", async (t) => {
  if (!have(`${REF}/cvm-testclient`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const env = { CVM_PWFILE_PATH: pw, ...c.env };
        const v1 = c.v1 ?? false;
        const expected = await run(client(false, v1), [
          `${REF}/cvm-pwfile`,
          ...c.args,
        ], { env });
        for (
          const [oursClient, oursModule] of [[true, true], [true, false], [
            false,
            true,
          ]]
        ) {
          const module = oursModule
            ? `${dist}/cvm-pwfile`
            : `${REF}/cvm-pwfile`;
          const actual = await run(
            client(oursClient, v1),
            [module, ...c.args],
            { env },
          );
          await compare(
            expected,
            actual,
            `client ${oursClient ? "ours" : "ref"}, module ${
              oursModule ? "ours" : "ref"
            }`,
          );
        }
      });
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("lookup mode with a wrong or missing secret answers NOCRED like the reference", async () => {
  if (!have(`${REF}/cvm-testclient`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    // The module's secret differs from the one the client sends.
    const fake = `${dir.path}/module.sh`;
    for (const module of [`${REF}/cvm-pwfile`, `${dist}/cvm-pwfile`]) {
      Deno.writeTextFileSync(
        fake,
        `#!/bin/sh\nCVM_LOOKUP_SECRET=right exec ${module}\n`,
      );
      Deno.chmodSync(fake, 0o755);
      for (const secret of ["wrong", ""]) {
        const env = { CVM_PWFILE_PATH: pw, CVM_LOOKUP_SECRET: secret };
        const ref = await run(`${REF}/cvm-testclient`, [fake, "bob", ""], {
          env,
        });
        const ours = await run(`${dist}/cvm-testclient`, [fake, "bob", ""], {
          env,
        });
        assertEquals(ref.code, 7);
        await compare(ref, ours, `secret "${secret}" against ${module}`);
      }
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("client chains stop and go on exactly as the reference's", async (t) => {
  if (!have(`${REF}/cvm-testclient`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    const other = `${dir.path}/other`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    Deno.writeTextFileSync(
      other,
      "dave:pw4:1003:100:Dave:/home/dave:/bin/sh\n",
    );
    // A module failing temporarily (IO) after reading its request: the
    // reference's client spins forever on one that exits unread.
    const ioModule = `${dir.path}/io.sh`;
    Deno.writeTextFileSync(
      ioModule,
      `#!/bin/sh\ncat >/dev/null; printf '\\004\\000\\000'; exit 4\n`,
    );
    Deno.chmodSync(ioModule, 0o755);
    const otherModule = `${dir.path}/other.sh`;
    Deno.writeTextFileSync(
      otherModule,
      `#!/bin/sh\nCVM_PWFILE_PATH=${other} exec ${REF}/cvm-pwfile\n`,
    );
    Deno.chmodSync(otherModule, 0o755);
    const chains: Array<[string, string[]]> = [
      ["first module succeeds", ["{M}," + otherModule, "bob", "", "pw2"]],
      ["a rejection in scope stops the chain", [
        "{M}," + otherModule,
        "dave",
        "",
        "pw4",
      ]],
      ["a temporary failure stops the chain", [
        ioModule + ",{M}",
        "bob",
        "",
        "pw2",
      ]],
      ["second module answers after an IO-free miss", [
        otherModule + ",{M}",
        "dave",
        "",
        "pw4",
      ]],
    ];
    for (const [name, args] of chains) {
      await t.step(name, async () => {
        const env = { CVM_PWFILE_PATH: pw };
        const refArgs = args.map((a) => a.replace("{M}", `${REF}/cvm-pwfile`));
        const ourArgs = args.map((a) => a.replace("{M}", `${dist}/cvm-pwfile`));
        const expected = await run(`${REF}/cvm-testclient`, refArgs, { env });
        const actual = await run(`${dist}/cvm-testclient`, ourArgs, { env });
        await compare(expected, actual, name);
      });
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("local and UDP servers: ours and the reference's answer both clients identically", async (t) => {
  if (!have(`${REF}/cvm-testclient`)) return;
  await ensureDist();
  const dir = tempDir();
  const servers: Array<{ stop(): Promise<number> }> = [];
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const env = { CVM_PWFILE_PATH: pw };
    const refPort = await freeUdpPort();
    const ourPort = await freeUdpPort();
    const refLocal = await startServer(`${REF}/cvm-pwfile`, [
      `cvm-local:${dir.path}/ref.sock`,
    ], env);
    servers.push(refLocal);
    const ourLocal = await startServer(`${dist}/cvm-pwfile`, [
      `cvm-local:${dir.path}/ours.sock`,
    ], env);
    servers.push(ourLocal);
    servers.push(
      await startServer(
        `${REF}/cvm-pwfile`,
        [`cvm-udp:127.0.0.1:${refPort}`],
        env,
      ),
    );
    servers.push(
      await startServer(
        `${dist}/cvm-pwfile`,
        [`cvm-udp:127.0.0.1:${ourPort}`],
        env,
      ),
    );
    const modes: Array<[string, string, string]> = [
      [
        "local",
        `cvm-local:${dir.path}/ref.sock`,
        `cvm-local:${dir.path}/ours.sock`,
      ],
      ["udp", `cvm-udp:127.0.0.1:${refPort}`, `cvm-udp:127.0.0.1:${ourPort}`],
    ];
    for (const [mode, refModule, ourModule] of modes) {
      for (
        const c of CASES.filter((c) =>
          !c.env?.CVM_LOOKUP_SECRET && c.env?.CVM_LOOKUP_SECRET !== ""
        )
      ) {
        await t.step(`${mode}: ${c.name}`, async () => {
          const v1 = c.v1 ?? false;
          const cenv = { ...env, ...c.env };
          const expected = await run(
            client(false, v1),
            [refModule, ...c.args],
            { env: cenv },
          );
          for (
            const [oursClient, module] of [
              [true, ourModule],
              [true, refModule],
              [false, ourModule],
            ] as const
          ) {
            const actual = await run(client(oursClient, v1), [
              module,
              ...c.args,
            ], { env: cenv });
            await compare(
              expected,
              actual,
              `${mode} client ${oursClient ? "ours" : "ref"} module ${module}`,
            );
          }
        });
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    dir.cleanup();
  }
});
