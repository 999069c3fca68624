/**
 * cvm-unix on a real system account (useradd + a yescrypt password from
 * chpasswd), and the cvm-chain module, both against the reference's.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  have,
  REF,
  run,
  SAMPLE_PASSWD,
  tempDir,
} from "../_helpers.ts";

const USER = "cvmunixtest";

async function withUser(fn: () => Promise<void>) {
  await run("userdel", ["-r", USER]);
  const add = await run("useradd", [
    "-m",
    "-c",
    "Unix Test,Room 9",
    "-G",
    "users,mail",
    "-s",
    "/bin/sh",
    USER,
  ]);
  if (add.code !== 0) throw new Error(`useradd failed: ${add.stderr}`);
  try {
    const pw = await run("chpasswd", [], {
      stdin: new TextEncoder().encode(`${USER}:Yes-Crypt1\n`),
    });
    if (pw.code !== 0) throw new Error(`chpasswd failed: ${pw.stderr}`);
    await fn();
  } finally {
    await run("userdel", ["-r", USER]);
  }
}

Deno.test("cvm-unix validates a useradd account with a chpasswd yescrypt password exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-unix`)) return;
  if (Deno.uid() !== 0) {
    console.log("skip: cvm-unix tests need root (useradd, shadow)");
    return;
  }
  await ensureDist();
  await withUser(async () => {
    const shadow = Deno.readTextFileSync("/etc/shadow");
    assertEquals(shadow.includes(`${USER}:$y$`), true);
    const cases: Array<[string, string[], Record<string, string>]> = [
      ["right password", [USER, "", "Yes-Crypt1"], {}],
      ["wrong password", [USER, "", "yes-crypt1"], {}],
      ["unknown account", ["no-such-user-x", "", "x"], {}],
      ["no password", [USER, ""], {}],
      ["lookup mode", [USER, ""], { CVM_LOOKUP_SECRET: "" }],
      ["root in lookup mode", ["root", ""], { CVM_LOOKUP_SECRET: "" }],
    ];
    for (const [name, args, env] of cases) {
      await t.step(name, async () => {
        const ref = await run(`${REF}/cvm-testclient`, [
          `${REF}/cvm-unix`,
          ...args,
        ], { env });
        const ours = await run(`${dist}/cvm-testclient`, [
          `${dist}/cvm-unix`,
          ...args,
        ], { env });
        assertEquals(
          { code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
          { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
        );
      });
    }
  });
});

Deno.test("cvm-chain asks $CVM_CHAIN0…9 in turn exactly as the reference's", async (t) => {
  if (!have(`${REF}/cvm-chain`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const oos1 = `${dir.path}/oos1.sh`;
    Deno.writeTextFileSync(
      oos1,
      `#!/bin/sh\ncat >/dev/null; printf '\\144\\000\\020\\0011\\000'; exit 100\n`,
    );
    const oos0 = `${dir.path}/oos0.sh`;
    Deno.writeTextFileSync(
      oos0,
      `#!/bin/sh\ncat >/dev/null; printf '\\144\\000\\020\\0010\\000'; exit 100\n`,
    );
    // Fails temporarily after reading its request (the reference spins on
    // a module that exits unread).
    const ioModule = `${dir.path}/io.sh`;
    Deno.writeTextFileSync(
      ioModule,
      `#!/bin/sh\ncat >/dev/null; printf '\\004\\000\\000'; exit 4\n`,
    );
    Deno.chmodSync(ioModule, 0o755);
    Deno.chmodSync(oos1, 0o755);
    Deno.chmodSync(oos0, 0o755);
    const cases: Array<[string, Record<string, string>, string[]]> = [
      ["one module, success", { CVM_CHAIN0: "{M}" }, ["bob", "", "pw2"]],
      ["last failure's code wins", {
        CVM_CHAIN0: "{M}",
        CVM_CHAIN1: ioModule,
      }, ["bob", "", "bad"]],
      ["gaps in the numbering", { CVM_CHAIN3: "{M}" }, [
        "pwfuser",
        "",
        "secret",
      ]],
      ["all out of scope", { CVM_CHAIN0: oos1, CVM_CHAIN1: oos1 }, [
        "bob",
        "",
        "x",
      ]],
      ["out of scope then plain rejection", {
        CVM_CHAIN0: oos1,
        CVM_CHAIN1: "{M}",
      }, ["bob", "", "bad"]],
      ["an in-scope 0 wins", { CVM_CHAIN0: oos1, CVM_CHAIN1: oos0 }, [
        "bob",
        "",
        "bad",
      ]],
    ];
    for (const [name, chain, args] of cases) {
      await t.step(name, async () => {
        const fill = (m: string) =>
          Object.fromEntries(
            Object.entries(chain).map(([k, v]) => [k, v.replace("{M}", m)]),
          );
        const ref = await run(`${REF}/cvm-testclient`, [
          `${REF}/cvm-chain`,
          ...args,
        ], {
          env: { CVM_PWFILE_PATH: pw, ...fill(`${REF}/cvm-pwfile`) },
        });
        const ours = await run(`${dist}/cvm-testclient`, [
          `${dist}/cvm-chain`,
          ...args,
        ], {
          env: { CVM_PWFILE_PATH: pw, ...fill(`${dist}/cvm-pwfile`) },
        });
        assertEquals(
          { code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
          { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
        );
      });
    }
    await t.step(
      "goes on after a module that cannot run (the reference's forked child breaks here)",
      async () => {
        const env = { CVM_PWFILE_PATH: pw };
        const ref = await run(`${REF}/cvm-testclient`, [
          `${REF}/cvm-pwfile`,
          "bob",
          "",
          "pw2",
        ], { env });
        const ours = await run(`${dist}/cvm-testclient`, [
          `${dist}/cvm-chain`,
          "bob",
          "",
          "pw2",
        ], {
          env: {
            ...env,
            CVM_CHAIN0: "/nonexistent",
            CVM_CHAIN1: `${dist}/cvm-pwfile`,
          },
        });
        assertEquals([ours.code, ours.stdout], [0, ref.stdout]);
      },
    );
  } finally {
    dir.cleanup();
  }
});
