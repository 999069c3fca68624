/**
 * The client side keeps facts byte for byte, as the reference's clients
 * do: an ISO-8859-1 account name, real name, home directory and shell
 * (`jos\xe9`, not UTF-8) come out of cvm-testclient and cvm-v1testclient as
 * the bytes the module sent, and cvm-checkpassword exports them (USER,
 * HOME, NAME, SHELL) and changes to that home before it runs the next
 * program, which also gets the caller's Latin-1 variables unchanged, as a
 * module run as a command does. Each output is compared with the
 * reference's, byte for byte, against both the reference's cvm-pwfile and
 * ours.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { decodeFacts } from "../../protocol/mod.ts";
import { dist, ensureDist, have, REF, run, tempDir } from "../_helpers.ts";

/** The bytes of a byte string (one character per byte). */
function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Bytes as a byte string (one character per byte), for exact comparison. */
function byteString(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** A byte string quoted for bash's `$'…'`, every byte above 0x7e as `\xNN`. */
function bashQuoted(text: string): string {
  return "$'" +
    text.replace(
      /[^\x20-\x26\x28-\x5b\x5d-\x7e]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    ) + "'";
}

/** Runs a bash command line; its stdout as a byte string, and its status. */
async function bash(
  line: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  const out = await run("/bin/bash", ["-c", line], { env, clearEnv: true });
  return { code: out.code, stdout: byteString(out.stdoutBytes) };
}

const LATIN_NAME = "jos\xe9";

Deno.test("decodeFacts() keeps text facts that are not UTF-8 as exact text (toBytes gives the bytes back)", () => {
  const decoded = decodeFacts([
    { type: 1, value: bytesOf("jos\xe9") }, // username
    { type: 2, value: bytesOf("1000") },
    { type: 3, value: bytesOf("100") },
    { type: 4, value: bytesOf("Jos\xe9 M\xfcller") }, // realname
    { type: 5, value: bytesOf("/home/jos\xe9") },
    { type: 6, value: new TextEncoder().encode("/bin/sh") },
  ], true);
  assertEquals(decoded.ok, true);
  if (!decoded.ok) return;
  assertEquals(decoded.value.username, "jos\uDCE9");
  assertEquals(decoded.value.realname, "Jos\uDCE9 M\uDCFCller");
  assertEquals(decoded.value.directory, "/home/jos\uDCE9");
  assertEquals(decoded.value.shell, "/bin/sh");
});

Deno.test("cvm-testclient and cvm-v1testclient print Latin-1 facts byte for byte as the reference's, from the reference's cvm-pwfile and ours", async (t) => {
  if (!have(`${REF}/cvm-testclient`) || !have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const passwd = `${dir.path}/passwd`;
    Deno.writeFileSync(
      passwd,
      bytesOf(
        `${LATIN_NAME}:pw:1000:100:Jos\xe9 M\xfcller,,:/home/jos\xe9:/bin/sh\xff\n`,
      ),
    );
    const expected = [
      "user name:        jos\xe9",
      "user ID:          1000",
      "group ID:         100",
      "real name:        Jos\xe9 M\xfcller",
      "directory:        /home/jos\xe9",
      "shell:            /bin/sh\xff",
      "group name:       (null)",
      "system user name: (null)",
      "system directory: (null)",
      "domain:           (null)",
      "mailbox path:     (null)",
      "",
    ].join("\n");
    const env = { PATH: "/usr/bin:/bin", CVM_PWFILE_PATH: passwd };
    for (const client of ["cvm-testclient", "cvm-v1testclient"]) {
      for (const module of [`${REF}/cvm-pwfile`, `${dist}/cvm-pwfile`]) {
        await t.step(`${client} with ${module}`, async () => {
          const line = (program: string) =>
            `exec '${program}' '${module}' ${
              bashQuoted(LATIN_NAME)
            } '' pw 2>/dev/null`;
          const ref = await bash(line(`${REF}/${client}`), env);
          assertEquals(ref, { code: 0, stdout: expected });
          assertEquals(await bash(line(`${dist}/${client}`), env), ref);
        });
      }
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-checkpassword exports Latin-1 facts and passes a Latin-1 variable on byte for byte as the reference, and changes to the Latin-1 home", async (t) => {
  if (!have(`${REF}/cvm-checkpassword`) || !have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    Deno.chmodSync(dir.path, 0o755);
    const home = `${dir.path}/h\xe9`; // a byte string: made by bash
    const made = await bash(`mkdir -m 755 ${bashQuoted(home)}`, {
      PATH: "/usr/bin:/bin",
    });
    assertEquals(made.code, 0);
    const passwd = `${dir.path}/passwd`;
    // nobody's ids, so a success runs the next program as nobody.
    Deno.writeFileSync(
      passwd,
      bytesOf(
        `${LATIN_NAME}:pw:65534:65534:Jos\xe9 M\xfcller,,:${home}:/bin/sh\xff\n`,
      ),
    );
    const fd3 = `${dir.path}/fd3`;
    Deno.writeFileSync(fd3, bytesOf(`${LATIN_NAME}\0pw\0`));
    const env = { PATH: "/usr/bin:/bin", CVM_PWFILE_PATH: passwd };
    // The environment the next program got, and where it ran.
    const next = `/bin/sh -c 'env; echo "cwd=$(pwd -P)"'`;
    for (const module of [`${REF}/cvm-pwfile`, `${dist}/cvm-pwfile`]) {
      await t.step(`with ${module}`, async () => {
        const line = (program: string) =>
          `export LATIN=${bashQuoted("b\xe9")}; ` +
          `exec '${program}' '${module}' ${next} 3<'${fd3}'`;
        // SHLVL differs by our launcher being a bash script (see README).
        const lines = (out: { code: number; stdout: string }) => ({
          code: out.code,
          lines: out.stdout.split("\n").filter((l) => !l.startsWith("SHLVL="))
            .sort(),
        });
        const ref = lines(await bash(line(`${REF}/cvm-checkpassword`), env));
        for (
          const wanted of [
            `USER=${LATIN_NAME}`,
            `HOME=${home}`,
            "NAME=Jos\xe9 M\xfcller",
            "SHELL=/bin/sh\xff",
            "LATIN=b\xe9",
            `cwd=${home}`,
          ]
        ) {
          assertEquals(ref.lines.includes(wanted), true, wanted);
        }
        assertEquals(ref.code, 0);
        assertEquals(
          lines(await bash(line(`${dist}/cvm-checkpassword`), env)),
          ref,
        );
      });
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-testclient gives a module run as a command a Latin-1 variable byte for byte, as the reference: the reference's cvm-pwfile reads /p\\xe9sswd", async () => {
  if (!have(`${REF}/cvm-testclient`) || !have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    Deno.writeFileSync(
      `${dir.path}/passwd`,
      bytesOf(`${LATIN_NAME}:pw:1000:100:Jos\xe9,,:/home/jos\xe9:/bin/sh\n`),
    );
    const latinPath = `${dir.path}/p\xe9sswd`; // a byte string
    const line = (program: string) =>
      `cp '${dir.path}/passwd' ${bashQuoted(latinPath)} && ` +
      `CVM_PWFILE_PATH=${bashQuoted(latinPath)} exec '${program}' ` +
      `'${REF}/cvm-pwfile' ${bashQuoted(LATIN_NAME)} '' pw 2>&1`;
    const env = { PATH: "/usr/bin:/bin" };
    const ref = await bash(line(`${REF}/cvm-testclient`), env);
    assertEquals(ref.code, 0);
    assertEquals(ref.stdout.split("\n")[0], "user name:        jos\xe9");
    assertEquals(await bash(line(`${dist}/cvm-testclient`), env), ref);
  } finally {
    dir.cleanup();
  }
});
