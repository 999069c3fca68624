/**
 * Names are folded to ASCII lower case only, as the reference's
 * `strcasecmp`/`tolower` do in the "C" locale. Unicode folding would let
 * another spelling reach an account: U+212A KELVIN SIGN lower-cases to `k`,
 * so `\u212Aate` would log in as `kate`, past deny lists, rate limits and
 * fail2ban rules keyed on the name sent.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { asciiLower } from "../../protocol/mod.ts";
import {
  dist,
  ensureDist,
  have,
  REF,
  run,
  startServer,
  tempDir,
} from "../_helpers.ts";

const KELVIN = "\u212A"; // lower-cases to "k"
const DOTTED_I = "\u0130"; // lower-cases to "i" + U+0307
const LONG_S = "\u017F"; // upper-cases to "S"

/** Accounts spelt with ASCII letters, and one spelt with a Kelvin sign. */
const PASSWD = [
  "kate:katepw:1001:100:Kate:/home/kate:/bin/sh",
  "iris:irispw:1002:100:Iris:/home/iris:/bin/sh",
  "sam:sampw:1003:100:Sam:/home/sam:/bin/sh",
  `${KELVIN}elvin:kelvinpw:1004:100:Kelvin:/home/kelvin:/bin/sh`,
  "",
].join("\n");

/** A name with its non-ASCII characters written as \u escapes, for step names. */
function shown(name: string): string {
  return name.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
  );
}

/** testclient arguments (account, domain, password) with what must happen. */
const CASES: Array<[string[], number]> = [
  [["kate", "", "katepw"], 0],
  [["KATE", "", "katepw"], 0],
  [[`${KELVIN}ate`, "", "katepw"], 100],
  [[`${KELVIN}ATE`, "", "katepw"], 100],
  [[`${DOTTED_I}ris`, "", "irispw"], 100],
  [[`${LONG_S}am`, "", "sampw"], 100],
  [[`${LONG_S}AM`, "", "sampw"], 100],
  [["kelvin", "", "kelvinpw"], 100],
  [["KELVIN", "", "kelvinpw"], 100],
  [[`${KELVIN}elvin`, "", "kelvinpw"], 0],
  [[`${KELVIN}ELVIN`, "", "kelvinpw"], 0],
];

Deno.test("asciiLower() folds A–Z only, never a Kelvin sign, U+0130 or a long s", () => {
  assertEquals(asciiLower("AZaz09@-_"), "azaz09@-_");
  assertEquals(asciiLower(`${KELVIN}ate`), `${KELVIN}ate`);
  assertEquals(asciiLower(`${DOTTED_I}RIS`), `${DOTTED_I}ris`);
  assertEquals(asciiLower(`${LONG_S}AM`), `${LONG_S}am`);
  assertEquals(asciiLower("ÄÖÜ"), "ÄÖÜ");
});

Deno.test("cvm-pwfile (command mode) folds ASCII only: a Kelvin sign is not k, exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const env = { CVM_PWFILE_PATH: `${dir.path}/passwd` };
    Deno.writeTextFileSync(env.CVM_PWFILE_PATH, PASSWD);
    for (const [args, code] of CASES) {
      await t.step(shown(args[0]), async () => {
        const ref = await run(`${REF}/cvm-testclient`, [
          `${REF}/cvm-pwfile`,
          ...args,
        ], { env });
        const ours = await run(`${REF}/cvm-testclient`, [
          `${dist}/cvm-pwfile`,
          ...args,
        ], { env });
        assertEquals(ref.code, code, "the reference folds ASCII only");
        assertEquals(
          { code: ours.code, stdout: ours.stdout },
          { code: ref.code, stdout: ref.stdout },
        );
      });
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-pwfile-local (the index of server modes) folds ASCII only, exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  const env = { CVM_PWFILE_PATH: `${dir.path}/passwd` };
  Deno.writeTextFileSync(env.CVM_PWFILE_PATH, PASSWD);
  const ours = await startServer(`${dist}/cvm-pwfile`, [
    `cvm-local:${dir.path}/ours.sock`,
  ], env);
  try {
    for (const [args, code] of CASES) {
      await t.step(shown(args[0]), async () => {
        const ref = await run(`${REF}/cvm-testclient`, [
          `${REF}/cvm-pwfile`,
          ...args,
        ], { env });
        const answer = await run(`${REF}/cvm-testclient`, [
          `cvm-local:${dir.path}/ours.sock`,
          ...args,
        ], { env });
        assertEquals(ref.code, code);
        assertEquals(
          { code: answer.code, stdout: answer.stdout },
          { code: ref.code, stdout: ref.stdout },
        );
      });
    }
  } finally {
    await ours.stop();
    dir.cleanup();
  }
});
