/**
 * How our client reads what a command module says, compared with the
 * reference's client on the same scripted modules: exit status against the
 * result byte, missing or malformed facts, truncated replies.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dist, ensureDist, have, REF, run, tempDir } from "../_helpers.ts";

/** printf-escaped replies a scripted module writes, with its exit status. */
const MODULES: Array<[string, string, number]> = [
  [
    "a well-formed success",
    "\\000\\000\\001\\003bob\\002\\0011\\003\\0012\\005\\001/\\000",
    0,
  ],
  [
    "a success reply with exit status 100",
    "\\000\\000\\001\\003bob\\002\\0011\\003\\0012\\005\\001/\\000",
    100,
  ],
  ["a rejection reply with exit status 0", "\\144\\000\\000", 0],
  [
    "a non-numeric user id",
    "\\000\\000\\001\\003bob\\002\\001x\\003\\0012\\005\\001/\\000",
    0,
  ],
  [
    "no directory fact",
    "\\000\\000\\001\\003bob\\002\\0011\\003\\0012\\000",
    0,
  ],
  [
    "no final NUL",
    "\\000\\000\\001\\003bob\\002\\0011\\003\\0012\\005\\001/",
    0,
  ],
  ["a fact running past the end", "\\000\\000\\001\\077bob\\000", 0],
  ["an out-of-scope rejection", "\\144\\000\\020\\0011\\000", 100],
  ["nothing at all", "", 100],
  ["a temporary error", "\\004\\000\\000", 4],
];

Deno.test("our client reads command modules' replies exactly as the reference's does", async (t) => {
  if (!have(`${REF}/cvm-testclient`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    let i = 0;
    for (const [name, reply, status] of MODULES) {
      await t.step(name, async () => {
        const module = `${dir.path}/m${i++}.sh`;
        Deno.writeTextFileSync(
          module,
          `#!/bin/sh\ncat >/dev/null; printf '${reply}'; exit ${status}\n`,
        );
        Deno.chmodSync(module, 0o755);
        const ref = await run(`${REF}/cvm-testclient`, [module, "bob", ""]);
        const ours = await run(`${dist}/cvm-testclient`, [module, "bob", ""]);
        assertEquals(
          { code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
          { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
        );
      });
    }
  } finally {
    dir.cleanup();
  }
});
