/**
 * cvm-checkpassword and cvm-v1checkpassword against the reference's: exit
 * statuses, the environment and identity the next program gets, the
 * request sent to the module, and a real exec (no parent left behind).
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

const enc = (s: string) => new TextEncoder().encode(s);

/** Runs a checkpassword with `input` on fd 3 (via a shell redirect). */
function checkpassword(
  program: string,
  args: string[],
  input: string | undefined,
  env: Record<string, string>,
  dir: string,
) {
  const inFile = `${dir}/fd3`;
  if (input !== undefined) Deno.writeFileSync(inFile, enc(input));
  const redirect = input === undefined ? "3<&-" : `3<${inFile}`;
  const quoted = [program, ...args].map((a) =>
    `'${a.replaceAll("'", "'\\''")}'`
  ).join(" ");
  return run("/bin/bash", ["-c", `exec ${quoted} ${redirect}`], {
    env: { PATH: "/usr/bin:/bin", ...env },
  });
}

Deno.test("checkpassword: exit statuses match the reference's for every failure class", async (t) => {
  if (!have(`${REF}/cvm-checkpassword`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const env = { CVM_PWFILE_PATH: pw };
    const cases: Array<[string, string, string | undefined, string]> = [
      ["wrong password", `${REF}/cvm-pwfile`, "bob\0bad\0", "/bin/true"],
      ["unknown account", `${REF}/cvm-pwfile`, "nobody\0x\0", "/bin/true"],
      ["no NUL after the account", `${REF}/cvm-pwfile`, "bob", "/bin/true"],
      [
        "no NUL after the password",
        `${REF}/cvm-pwfile`,
        "bob\0pw2",
        "/bin/true",
      ],
      ["fd 3 closed", `${REF}/cvm-pwfile`, undefined, "/bin/true"],
      ["program missing", `${REF}/cvm-pwfile`, "bob\0pw2\0", "/nonexistent"],
      [
        "over 512 bytes",
        `${REF}/cvm-pwfile`,
        "bob\0" + "x".repeat(600) + "\0",
        "/bin/true",
      ],
    ];
    for (const v of ["", "v1"]) {
      for (const [name, module, input, program] of cases) {
        await t.step(`${v || "v2"}: ${name}`, async () => {
          const p = `cvm-${v}checkpassword`;
          const ref = await checkpassword(
            `${REF}/${p}`,
            [module, program],
            input,
            env,
            dir.path,
          );
          const ours = await checkpassword(
            `${dist}/${p}`,
            [module, program],
            input,
            env,
            dir.path,
          );
          assertEquals([ours.code, ours.stdout], [ref.code, ref.stdout]);
        });
      }
    }
    // A missing module is a temporary failure (IO). Not run against the
    // reference: its client spins forever when a module exits unread.
    for (const v of ["", "v1"]) {
      const p = `cvm-${v}checkpassword`;
      const ours = await checkpassword(
        `${dist}/${p}`,
        ["/nonexistent", "/bin/true"],
        "bob\0pw2\0",
        env,
        dir.path,
      );
      assertEquals(ours.code, 4);
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("checkpassword: the next program gets the reference's environment, directory and identity", async () => {
  if (!have(`${REF}/cvm-checkpassword`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const home = `${dir.path}/home`;
    Deno.chmodSync(dir.path, 0o755); // the user must reach its home
    Deno.mkdirSync(home);
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, `bob:pw2:1001:100:Bob B,,,:${home}:/bin/sh\n`);
    const env = { CVM_PWFILE_PATH: pw };
    const show = [
      "/bin/sh",
      "-c",
      'echo "$USER|$UID|$GID|$NAME|$HOME|$SHELL|${GROUP-unset}|${MAILDIR-unset}"; pwd; id',
    ];
    for (const v of ["", "v1"]) {
      const p = `cvm-${v}checkpassword`;
      const ref = await checkpassword(
        `${REF}/${p}`,
        [`${REF}/cvm-pwfile`, ...show],
        "bob\0pw2\0",
        env,
        dir.path,
      );
      const ours = await checkpassword(
        `${dist}/${p}`,
        [`${dist}/cvm-pwfile`, ...show],
        "bob\0pw2\0",
        env,
        dir.path,
      );
      assertEquals(ref.code, 0);
      assertEquals({ code: ours.code, stdout: ours.stdout }, {
        code: ref.code,
        stdout: ref.stdout,
      });
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("checkpassword: sends the module the same request as the reference (ucspi domain, split)", async () => {
  if (!have(`${REF}/cvm-checkpassword`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const dump = `${dir.path}/dump.sh`;
    Deno.writeTextFileSync(dump, `#!/bin/sh\ncat > "$DUMP"\nexit 100\n`);
    Deno.chmodSync(dump, 0o755);
    const inputs = ["bob\0pw\0", "bob@zz.org\0pw\0ts\0", "bob\0\0"];
    for (const v of ["", "v1"]) {
      for (const input of inputs) {
        const p = `cvm-${v}checkpassword`;
        const env = {
          PROTO: "TCP",
          TCPLOCALHOST: "mail.example.org",
          DUMP: `${dir.path}/ref`,
        };
        await checkpassword(
          `${REF}/${p}`,
          [dump, "/bin/true"],
          input,
          env,
          dir.path,
        );
        await checkpassword(`${dist}/${p}`, [dump, "/bin/true"], input, {
          ...env,
          DUMP: `${dir.path}/ours`,
        }, dir.path);
        assertEquals(
          Array.from(Deno.readFileSync(`${dir.path}/ours`)),
          Array.from(Deno.readFileSync(`${dir.path}/ref`)),
          `${p} ${JSON.stringify(input)}`,
        );
      }
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("checkpassword: replaces itself with the program (same pid, no parent left)", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(
      pw,
      `bob:pw2:${Deno.uid()}:${Deno.gid()}::${dir.path}:/bin/sh\n`,
    );
    Deno.writeFileSync(`${dir.path}/fd3`, enc("bob\0pw2\0"));
    // bash execs checkpassword, which must exec sh: all three share one pid.
    const out = await run("/bin/bash", [
      "-c",
      `echo $$; exec ${dist}/cvm-checkpassword ${dist}/cvm-pwfile /bin/sh -c 'echo $$' 3<${dir.path}/fd3`,
    ], { env: { CVM_PWFILE_PATH: pw, PATH: "/usr/bin:/bin" } });
    const [outer, inner] = out.stdout.trim().split("\n");
    assertEquals(out.code, 0);
    assertEquals(inner, outer);
  } finally {
    dir.cleanup();
  }
});
