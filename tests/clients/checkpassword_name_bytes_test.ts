/**
 * cvm-checkpassword sends the account's bytes from fd 3 as they came, as
 * the reference does: decoded as UTF-8 with U+FFFD replacement, `jos\xe9`
 * (ISO-8859-1 é) could not log in and `jos\xff` would be the same name
 * as any other invalid byte. Against the reference's cvm-pwfile, exit
 * statuses compared with the reference's cvm-checkpassword.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dist, ensureDist, have, REF, run, tempDir } from "../_helpers.ts";

/** The bytes of a byte string (one character per byte). */
function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** A byte string with its bytes above 0x7e as `\xNN`, for step names. */
function shown(text: string): string {
  return text.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

Deno.test("cvm-checkpassword sends the account's bytes as given: only jos\\xe9 logs in as jos\\xe9, exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-checkpassword`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pwfile = `${dir.path}/passwd`;
    // nobody's ids and a directory that exists, so a success reaches exec.
    Deno.writeFileSync(
      pwfile,
      bytesOf(`jos\xe9:latin-pw:65534:65534:Jos\xe9:${dir.path}:/bin/sh\n`),
    );
    Deno.chmodSync(dir.path, 0o755);
    const cases: Array<[string, number]> = [
      ["jos\xe9", 0],
      ["JOS\xe9", 0],
      ["jos\xff", 100],
      ["jos\xc3\xa9", 100],
    ];
    for (const [account, code] of cases) {
      await t.step(shown(account), async () => {
        const fd3 = `${dir.path}/fd3`;
        Deno.writeFileSync(fd3, bytesOf(`${account}\0latin-pw\0`));
        const status = async (program: string) =>
          (await run("/bin/bash", [
            "-c",
            `exec '${program}' '${REF}/cvm-pwfile' /bin/true 3<'${fd3}'`,
          ], { env: { PATH: "/usr/bin:/bin", CVM_PWFILE_PATH: pwfile } }))
            .code;
        const ref = await status(`${REF}/cvm-checkpassword`);
        assertEquals(ref, code, "the reference sends the bytes");
        assertEquals(await status(`${dist}/cvm-checkpassword`), ref);
      });
    }
  } finally {
    dir.cleanup();
  }
});
