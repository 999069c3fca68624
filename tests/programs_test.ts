/**
 * The client programs' usage errors, outputs and exit statuses against the
 * reference's, and the dispatcher.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import {
  dist,
  ensureDist,
  have,
  REF,
  root,
  run,
  SAMPLE_PASSWD,
  tempDir,
} from "./_helpers.ts";

const USAGE_CASES: Array<[string, string[]]> = [
  ["cvm-testclient", []],
  ["cvm-testclient", ["a", "b"]],
  ["cvm-testclient", ["a", "b", "c", "d", "e"]],
  ["cvm-v1testclient", []],
  ["cvm-benchclient", []],
  ["cvm-benchclient", ["x", "m", "a", "d"]],
  ["cvm-benchclient", ["0", "m", "a", "d"]],
  ["cvm-benchclient", ["2x", "m", "a", "d"]],
  ["cvm-v1benchclient", []],
  ["cvm-v1benchclient", ["x", "y", "z", "w"]],
  ["cvm-checkpassword", []],
  ["cvm-checkpassword", ["only-module"]],
  ["cvm-v1checkpassword", []],
  ["cvm-pwfile", ["a", "b"]],
  ["cvm-pwfile", ["cvm-bogus:x"]],
  ["cvm-pwfile", ["cvm-udp:127.0.0.1"]],
];

for (const [program, args] of USAGE_CASES) {
  Deno.test(`${program} ${args.join(" ")} fails with the reference's usage text and status`, async () => {
    if (!have(`${REF}/${program}`)) return;
    await ensureDist();
    const ref = await run(`${REF}/${program}`, args);
    const ours = await run(`${dist}/${program}`, args);
    assertEquals(
      { code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
      { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
    );
  });
}

Deno.test("cvm-pwfile-local and -udp print usage as the reference's cvm-pgsql-local/-udp do", async () => {
  await ensureDist();
  const local = await run(`${dist}/cvm-pwfile-local`, []);
  assertEquals(local.code, 1);
  assertEquals(
    local.stderr,
    "cvm-pwfile: Fatal: usage: cvm-pwfile-local /PATH/TO/SOCKET\n",
  );
  const udp = await run(`${dist}/cvm-pwfile-udp`, ["127.0.0.1"]);
  assertEquals(udp.code, 1);
  assertEquals(
    udp.stderr,
    "cvm-pwfile: Fatal: usage: cvm-pwfile-udp IP PORT\n",
  );
});

Deno.test("cvm-benchclient runs COUNT validations and exits with the first failure's code", async () => {
  if (!have(`${REF}/cvm-benchclient`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const env = { CVM_PWFILE_PATH: pw };
    for (const program of ["cvm-benchclient", "cvm-v1benchclient"]) {
      const good = await run(`${dist}/${program}`, [
        "3",
        `${dist}/cvm-pwfile`,
        "bob",
        "",
        "pw2",
      ], { env });
      assertEquals([good.code, good.stdout, good.stderr], [0, "", ""]);
      const ref = await run(`${REF}/${program}`, [
        "3",
        `${REF}/cvm-pwfile`,
        "bob",
        "",
        "bad",
      ], { env });
      const bad = await run(`${dist}/${program}`, [
        "3",
        `${dist}/cvm-pwfile`,
        "bob",
        "",
        "bad",
      ], { env });
      assertEquals(bad.code, ref.code);
      // Deliberate difference: the reference prints "(No error)" here.
      assertEquals(
        bad.stderr,
        `${program}: Fatal: Authentication failed, error #100 (Credentials rejected)\n`,
      );
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm --help lists every program, and cvm PROGRAM dispatches like the symlink", async () => {
  await ensureDist();
  const help = await run(`${dist}/cvm`, ["--help"]);
  assertEquals(help.code, 0);
  const names = (await run(`${dist}/cvm`, ["--list"])).stdout.trim().split(
    "\n",
  );
  for (const name of names) assert.ok(help.stdout.includes(`  ${name} `), name);
  for (const name of names) {
    const link = Deno.readLinkSync(`${dist}/${name}`);
    assertEquals(link, "cvm");
  }
  const viaArg = await run(`${dist}/cvm`, ["testclient"]);
  const viaLink = await run(`${dist}/cvm-testclient`, []);
  assertEquals(viaArg.stderr, viaLink.stderr);
  assertEquals(viaArg.code, 1);
  const unknown = await run(`${dist}/cvm`, ["nonsense"]);
  assertEquals(unknown.code, 1);
  assert.match(unknown.stderr, /^cvm: unknown program: nonsense\n/);
});

Deno.test("compile.sh --launcher makes dist/cvm and a symlink per program; plain compile explains a missing denort", async () => {
  const out = await run("bash", [`${root}/scripts/compile.sh`, "--launcher"]);
  assertEquals(out.code, 0);
  assert.match(out.stdout, /launcher build/);
  const bad = await run("bash", [`${root}/scripts/compile.sh`], {
    env: { DENORT_BIN: "/nonexistent/denort" },
  });
  if (bad.code === 0) return; // a machine that can really compile
  assert.match(bad.stderr, /compile\.sh: deno compile failed/);
  // Never a silent fallback: the launcher is not what a failed compile leaves.
  await run("bash", [`${root}/scripts/compile.sh`, "--launcher"]);
});
