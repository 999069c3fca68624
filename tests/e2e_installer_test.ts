/**
 * End to end, the seed's instshow / installer / instcheck: `cvm install
 * --show` lists every file and link with its mode and touches nothing;
 * `cvm install` into a temporary prefix creates them (from this source
 * tree, building with `scripts/compile.sh --launcher`), again is a no-op,
 * and refuses to replace a file it did not create unless `--force`;
 * `cvm install --check` passes on it, and fails naming the problem once a
 * symlink is removed or the binary's mode is wrong.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dist, ensureDist, expect } from "./_e2e_helpers.ts";
import { run, tempDir } from "./_helpers.ts";
import { checkInstall, findSource, install } from "../installer/install.ts";

Deno.test("e2e installer: --show, install into a prefix, --check, --force", async (t) => {
  await ensureDist();
  const tmp = tempDir();
  const prefix = `${tmp.path}/prefix`;
  const bin = `${prefix}/bin`;
  const cvm = (...args: string[]) => run(`${dist}/cvm`, ["install", ...args]);
  try {
    const listed = await run(`${dist}/cvm`, ["--list"]);
    assertEquals(listed.code, 0);
    const names = listed.stdout.trim().split("\n");
    expect(names.includes("cvm-checkpassword"), listed.stdout);

    await t.step(
      "--show prints every file, link and mode, touching nothing",
      async () => {
        const shown = await cvm("--show", "--prefix", prefix, "--launcher");
        assertEquals(shown.code, 0, shown.stderr);
        const lines = shown.stdout.split("\n");
        const has = (re: RegExp) =>
          expect(lines.some((l) => re.test(l)), `${re} in:\n${shown.stdout}`);
        has(/^source: .*scripts\/compile\.sh --launcher/);
        has(new RegExp(`^dir +0755 +${bin} +create$`));
        has(new RegExp(`^file +0755 +${bin}/cvm +create$`));
        for (const name of names) {
          has(new RegExp(`^link +0777 +${bin}/${name} -> cvm +create$`));
        }
        has(
          new RegExp(
            `^file +0644 +${prefix}/share/cvm/install-manifest +create$`,
          ),
        );
        expect(!existsPath(prefix), "--show created the prefix");
      },
    );

    await t.step(
      "install creates the binary and one link per program",
      async () => {
        const done = await cvm("--prefix", prefix, "--launcher");
        assertEquals(done.code, 0, done.stderr);
        const info = Deno.lstatSync(`${bin}/cvm`);
        expect(info.isFile, "bin/cvm is a file");
        assertEquals((info.mode ?? 0) & 0o7777, 0o755);
        for (const name of names) {
          assertEquals(Deno.readLinkSync(`${bin}/${name}`), "cvm");
        }
        // The links dispatch: a client and a module through their names.
        const probe = await run(`${bin}/cvm-testclient`, [
          `cvm-command:${bin}/cvm-pwfile`,
          "nobody-here",
          "",
          "x",
        ], { env: { CVM_PWFILE_PATH: "/dev/null" } });
        assertEquals(probe.code, 100, probe.stderr);
      },
    );

    await t.step("install again changes nothing", async () => {
      const again = await cvm("--prefix", prefix, "--launcher");
      assertEquals(again.code, 0, again.stderr);
      expect(/ 0 created, 0 updated, /.test(again.stdout), again.stdout);
      const shown = await cvm("--show", "--prefix", prefix, "--launcher");
      const actions = shown.stdout.split("\n").slice(1).filter((l) => l)
        .map((l) => l.split(/ +/).at(-1));
      expect(actions.every((a) => a === "keep"), shown.stdout);
    });

    await t.step("--check passes on the installation", async () => {
      const checked = await run(`${bin}/cvm`, [
        "install",
        "--check",
        "--prefix",
        prefix,
      ]);
      assertEquals(checked.code, 0, checked.stderr);
      expect(/^cvm install --check: ok: /.test(checked.stdout), checked.stdout);
    });

    await t.step(
      "--check fails naming a removed link and a wrong mode",
      async () => {
        Deno.removeSync(`${bin}/cvm-pwfile`);
        const missing = await cvm("--check", "--prefix", prefix);
        assertEquals(missing.code, 1);
        expect(
          missing.stderr.includes(`missing: ${bin}/cvm-pwfile`),
          missing.stderr,
        );
        Deno.chmodSync(`${bin}/cvm`, 0o644);
        const mode = await cvm("--check", "--prefix", prefix);
        assertEquals(mode.code, 1);
        expect(
          mode.stderr.includes(`wrong mode 0644 (want 0755): ${bin}/cvm`),
          mode.stderr,
        );
        // install mends both.
        const mended = await cvm("--prefix", prefix, "--launcher");
        assertEquals(mended.code, 0, mended.stderr);
        assertEquals((await cvm("--check", "--prefix", prefix)).code, 0);
      },
    );

    await t.step("a file it did not create stays unless --force", async () => {
      Deno.removeSync(`${bin}/cvm-unix`);
      Deno.writeTextFileSync(
        `${bin}/cvm-unix`,
        "#!/bin/sh\n# someone else's\n",
      );
      const refused = await cvm("--prefix", prefix, "--launcher");
      assertEquals(refused.code, 1);
      expect(
        refused.stderr.includes(`refusing to replace ${bin}/cvm-unix`),
        refused.stderr,
      );
      assertEquals(
        Deno.readTextFileSync(`${bin}/cvm-unix`),
        "#!/bin/sh\n# someone else's\n",
      );
      const shown = await cvm("--show", "--prefix", prefix, "--launcher");
      expect(
        new RegExp(`${bin}/cvm-unix -> cvm +refuse`).test(shown.stdout),
        shown.stdout,
      );
      const forced = await cvm("--prefix", prefix, "--launcher", "--force");
      assertEquals(forced.code, 0, forced.stderr);
      assertEquals(Deno.readLinkSync(`${bin}/cvm-unix`), "cvm");
      assertEquals((await cvm("--check", "--prefix", prefix)).code, 0);
    });

    await t.step("a compiled cvm copies itself (no build)", async () => {
      // The launcher stands in for a compiled binary: any executable will do.
      const binary = `${tmp.path}/compiled-cvm`;
      Deno.copyFileSync(`${dist}/cvm`, binary);
      const other = `${tmp.path}/other-prefix`;
      const options = { prefix: other, force: false, launcher: false };
      const source = { kind: "compiled" as const, binary };
      assertEquals(findSource(false, binary), source);
      assertEquals(await install(options, source), 0);
      assertEquals(
        Deno.readFileSync(`${other}/bin/cvm`),
        Deno.readFileSync(binary),
      );
      assertEquals(await checkInstall(options), 0);
    });
  } finally {
    tmp.cleanup();
  }
});

function existsPath(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
