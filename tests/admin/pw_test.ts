/**
 * `cvm pw`: the password from stdin (one line, newline stripped) or from a
 * terminal (no echo, twice for a new hash), the output, and the exit
 * statuses (0 match or done, 1 no match, 2 usage or unknown scheme).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { listSchemes, verifyPassword } from "../../modules/passwords/mod.ts";
import { dist, ensureDist, have, run } from "../_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function pw(args: string[], stdin = "") {
  return run(`${dist}/cvm`, ["pw", ...args], { stdin: enc(stdin) });
}

Deno.test("cvm pw -s reads one line of stdin: the newline stripped, a missing one fine, later lines ignored", async () => {
  await ensureDist();
  for (const input of ["pässword\n", "pässword", "pässword\nsecond line\n"]) {
    const out = await pw(["-s", "SSHA256"], input);
    assertEquals(out.code, 0, out.stderr);
    assert(/^\{SSHA256\}[A-Za-z0-9+/]+=*\n$/.test(out.stdout), out.stdout);
    assertEquals(out.stderr, "");
    assertEquals(
      await verifyPassword(out.stdout.trim(), enc("pässword")),
      true,
      JSON.stringify(input),
    );
  }
  // Only the newline goes: a carriage return or a space is the password's.
  const crlf = await pw(["-s", "PLAIN"], "pw \r\n");
  assertEquals(crlf.stdout, "{PLAIN}pw \r\n");
});

Deno.test("cvm pw: the default scheme is CRYPT, suffixes give the encoding, the label is upper case", async () => {
  await ensureDist();
  const crypt = await pw([], "pw\n");
  assert(crypt.stdout.startsWith("{CRYPT}$"), crypt.stdout);
  assertEquals(
    (await pw(["-s", "sha256.hex"], "pw\n")).stdout,
    "{SHA256.HEX}30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4\n",
  );
  assertEquals((await pw(["-sPLAIN.b64"], "pw\n")).stdout, "{PLAIN.B64}cHc=\n");
});

Deno.test("cvm pw -t: exit 0 and '(verified)' for a match, 1 for none, a bare hash in -s's scheme", async () => {
  await ensureDist();
  const hash = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="; // SHA-1 of "secret"
  const right = await pw(["-t", hash], "secret\n");
  assertEquals([right.code, right.stdout, right.stderr], [
    0,
    `${hash} (verified)\n`,
    "",
  ]);
  const wrong = await pw(["-t", hash], "secreT\n");
  assertEquals([wrong.code, wrong.stdout], [1, ""]);
  assertEquals(wrong.stderr, "cvm pw: the password does not match\n");
  const bare = await pw(
    ["-t", "5en6G6MezRroT3XKqkdPOmY/BfQ=", "-s", "SHA"],
    "secret",
  );
  assertEquals(bare.code, 0, bare.stderr);
  // A bare value is crypt(3) by default: this one is none.
  assertEquals((await pw(["-t", "secret"], "secret")).code, 1);
});

Deno.test("cvm pw: exit 2 for a usage error or an unknown scheme, and -p is refused", async () => {
  await ensureDist();
  for (
    const args of [
      ["-s", "NOPE"],
      ["-s", "SHA.B32"],
      ["-t", "{NOPE}x"],
      ["-x"],
      ["-s"],
      ["-r", "0"],
      ["-r", "many"],
      ["-m", "99999999999"],
      ["-p", "secret"],
    ]
  ) {
    const out = await pw(args, "pw\n");
    assertEquals([out.code, out.stdout], [2, ""], args.join(" "));
    assert(out.stderr.startsWith("cvm pw: "), out.stderr);
  }
  const p = await pw(["-p", "secret"], "");
  assert(/a password in the arguments is seen by every user/.test(p.stderr));
  assert(!p.stderr.includes("secret\n"), "the password is not echoed back");
});

Deno.test("cvm pw: an empty password is refused (exit 1), -l lists the schemes, -h the usage", async () => {
  await ensureDist();
  for (const input of ["", "\n"]) {
    const out = await pw(["-s", "SHA"], input);
    assertEquals(
      [out.code, out.stdout, out.stderr],
      [1, "", "cvm pw: Empty passwords are not allowed\n"],
    );
  }
  const list = await pw(["-l"]);
  assertEquals([list.code, list.stdout], [0, listSchemes().join(" ") + "\n"]);
  const help = await pw(["-h"]);
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("usage: cvm pw"), help.stdout);
  assert(/PBKDF2 iterations \(default 100000\)/.test(help.stdout));
});

/**
 * Runs `cvm pw` on a pseudo-terminal (util-linux `script`), typing each
 * answer once the program has asked for it; returns all it showed.
 */
async function onTerminal(
  args: string[],
  answers: string[],
): Promise<{ code: number; shown: string }> {
  const command = [`${dist}/cvm`, "pw", ...args].map((a) => `'${a}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  let shown = "";
  const prompts = [
    "Enter new password: ",
    "Retype new password: ",
    "Enter password to verify: ",
  ];
  let asked = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    shown += new TextDecoder().decode(value);
    // Each prompt seen gets the next answer, typed as a terminal sends it.
    const seen = prompts.reduce((n, p) => n + shown.split(p).length - 1, 0);
    while (asked < seen && asked < answers.length) {
      await writer.write(enc(answers[asked++] + "\r"));
    }
  }
  await writer.close().catch(() => {});
  const { code } = await child.status;
  await child.stderr.cancel();
  return { code, shown };
}

Deno.test({
  name:
    "cvm pw on a terminal: asks twice without echo, refuses two that differ; -t asks once",
  ignore: !have("/usr/bin/script"),
  async fn() {
    await ensureDist();
    const made = await onTerminal(["-s", "SSHA512"], ["pässword", "pässword"]);
    assertEquals(made.code, 0, made.shown);
    assert(!made.shown.includes("pässword"), `echoed: ${made.shown}`);
    assert(made.shown.includes("Enter new password: "), made.shown);
    assert(made.shown.includes("Retype new password: "), made.shown);
    const hash = /\{SSHA512\}\S+/.exec(made.shown)?.[0];
    assert(hash !== undefined, made.shown);
    assertEquals(await verifyPassword(hash, enc("pässword")), true);

    const differ = await onTerminal(["-s", "SHA"], ["one", "two"]);
    assertEquals(differ.code, 1);
    assert(differ.shown.includes("Passwords don't match!"), differ.shown);
    assert(!/\{SHA\}/.test(differ.shown), differ.shown);

    const test = await onTerminal(["-t", hash], ["pässword"]);
    assertEquals(test.code, 0, test.shown);
    assert(test.shown.includes("Enter password to verify: "), test.shown);
    assert(!test.shown.includes("Retype"), test.shown);
    assert(!test.shown.includes("pässword"), test.shown);
  },
});
