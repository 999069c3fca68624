/**
 * cvm-unix gives getpwnam the name's bytes as sent, as the reference does:
 * a system account named `jos\xe9…` (ISO-8859-1 é, made with useradd
 * --badname) is found by exactly those bytes, its facts are its stored
 * bytes, and neither another invalid byte nor the UTF-8 spelling of é
 * reaches it. Raw requests, compared byte for byte with the reference.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dist, ensureDist, have, REF, run } from "../_helpers.ts";
import { askCommand, bytesOf, rawRequest, shown } from "./_raw_names.ts";

Deno.test("cvm-unix looks names up as bytes: only jos\\xe9 is jos\\xe9, exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-unix`)) return;
  if (Deno.uid() !== 0) {
    console.log("skip: cvm-unix tests need root (useradd, shadow)");
    return;
  }
  await ensureDist();
  const tag = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const user = `jos\xe9${tag}`;
  // The name as a shell word made of its bytes (arguments are text).
  const octal = Array.from(bytesOf(user), (b) => `\\${b.toString(8)}`).join("");
  const sh = (script: string) =>
    run("sh", ["-c", `u="$(printf '${octal}')"; ${script}`]);
  const add = await sh(
    `useradd --badname -M -d "/home/$u" -c "Jos\\351 $u,," -s /bin/sh "$u"`,
  );
  if (add.code !== 0) throw new Error(`useradd failed: ${add.stderr}`);
  try {
    const pw = await run("chpasswd", [], {
      stdin: bytesOf(`${user}:Latin-pw1\n`),
    });
    if (pw.code !== 0) throw new Error(`chpasswd failed: ${pw.stderr}`);
    const cases: Array<[string, number]> = [
      [user, 0],
      [`jos\xff${tag}`, 100],
      [`jos\xc9${tag}`, 100],
      [`jos\xc3\xa9${tag}`, 100],
      [`jos\xef\xbf\xbd${tag}`, 100],
    ];
    for (const [account, code] of cases) {
      await t.step(shown(account), async () => {
        const request = rawRequest(account, "Latin-pw1");
        const ref = await askCommand(`${REF}/cvm-unix`, {}, request);
        const ours = await askCommand(`${dist}/cvm-unix`, {}, request);
        assertEquals(ref.code, code, "the reference looks bytes up");
        assertEquals(ours, ref);
      });
    }
  } finally {
    await sh(`userdel "$u"`);
  }
});
