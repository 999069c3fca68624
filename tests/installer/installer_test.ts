/**
 * End to end, the seed's instshow / installer / instcheck, and the
 * uninstall and upgrade paths: `cvm install --show` lists every file, link
 * and directory with its mode and touches nothing; `cvm install --launcher`
 * into a temporary prefix creates the portable tree, again is a no-op,
 * refuses to replace a file it did not create (or that changed) unless
 * `--force`, and on an upgrade removes what it no longer installs;
 * `--check` fails naming the problem; `--uninstall` leaves the prefix as it
 * was. A compiled cvm goes through the same install, check and uninstall
 * (with a stand-in binary; with `$DENORT_BIN`, a real `deno compile`).
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { dist, ensureDist, expect, root } from "../e2e/_helpers.ts";
import { exists, run, tempDir } from "../_helpers.ts";
import { listing, listingDiff } from "./_helpers.ts";
import { checkInstall } from "../../installer/check.ts";
import { install } from "../../installer/install.ts";
import { PORTABLE_LAUNCHER } from "../../installer/portable.ts";
import { findSource } from "../../installer/source.ts";
import { uninstall } from "../../installer/uninstall.ts";

const sha256 = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");

/** The prefix's listing without deno's cache (which running programs fill). */
const installed = (prefix: string) => listing(prefix, ["lib/cvm/cache"]);

Deno.test("e2e installer: --show, install the portable tree, again, --check, --force, upgrade, --uninstall", async (t) => {
  await ensureDist();
  const tmp = tempDir();
  const prefix = `${tmp.path}/prefix`;
  const bin = `${prefix}/bin`;
  const lib = `${prefix}/lib/cvm`;
  const manifest = `${prefix}/share/cvm/install-manifest`;
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
        has(new RegExp(`^source: ${root} \\(portable tree: `));
        has(new RegExp(`^dir +0755 +${bin} +create$`));
        has(new RegExp(`^file +0755 +${bin}/cvm +create$`));
        has(new RegExp(`^file +0755 +${lib}/deno +create$`));
        has(new RegExp(`^file +0644 +${lib}/main\\.ts +create$`));
        has(new RegExp(`^file +0644 +${lib}/deno\\.lock +create$`));
        has(new RegExp(`^file +0644 +${lib}/modules/pwfile\\.ts +create$`));
        has(new RegExp(`^link +0777 +${lib}/node_modules/postgres -> `));
        has(new RegExp(`^cache +0755 +${lib}/cache +create$`));
        for (const name of names) {
          has(new RegExp(`^link +0777 +${bin}/${name} -> cvm +create$`));
        }
        has(new RegExp(`^file +0644 +${manifest} +create$`));
        expect(!exists(prefix), "--show created the prefix");
      },
    );

    // Something of the admin's under the prefix before the install.
    Deno.mkdirSync(bin, { recursive: true });
    Deno.writeTextFileSync(`${bin}/other-tool`, "#!/bin/sh\n");
    const before = listing(prefix);

    await t.step(
      "install makes the tree: the launcher, deno, the links",
      async () => {
        const done = await cvm("--prefix", prefix, "--launcher");
        assertEquals(done.code, 0, done.stderr);
        const info = Deno.lstatSync(`${bin}/cvm`);
        expect(info.isFile, "bin/cvm is a file");
        assertEquals((info.mode ?? 0) & 0o7777, 0o755);
        // The launcher names no path: it finds the tree from its own.
        assertEquals(Deno.readTextFileSync(`${bin}/cvm`), PORTABLE_LAUNCHER);
        assertEquals(
          sha256(Deno.readFileSync(`${lib}/deno`)),
          sha256(Deno.readFileSync(Deno.execPath())),
        );
        for (const name of names) {
          assertEquals(Deno.readLinkSync(`${bin}/${name}`), "cvm");
        }
        // The manifest records paths relative to the prefix.
        const text = Deno.readTextFileSync(manifest);
        expect(!text.includes(prefix), text.slice(0, 500));
        expect(/^file\tbin\/cvm\t0755\t[0-9a-f]{64}$/m.test(text), text);
        expect(/^cache\tlib\/cvm\/cache\t0755$/m.test(text), text);
        expect(!/^dir\tbin\t/m.test(text), "bin/ was there: not ours");
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
      const first = installed(prefix);
      const again = await cvm("--prefix", prefix, "--launcher");
      assertEquals(again.code, 0, again.stderr);
      expect(
        / 0 created, 0 updated, \d+ unchanged, 0 removed$/m.test(again.stdout),
        again.stdout,
      );
      assertEquals(listingDiff(first, installed(prefix)), []);
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
      "--check fails naming a removed link, a wrong mode, a missing file",
      async () => {
        Deno.removeSync(`${bin}/cvm-pwfile`);
        Deno.chmodSync(`${bin}/cvm`, 0o644);
        Deno.removeSync(`${lib}/modules/cdb/reader.ts`);
        const bad = await cvm("--check", "--prefix", prefix);
        assertEquals(bad.code, 1);
        for (
          const problem of [
            `missing: ${bin}/cvm-pwfile`,
            `wrong mode 0644 (want 0755): ${bin}/cvm`,
            `missing: ${lib}/modules/cdb/reader.ts`,
          ]
        ) {
          expect(
            bad.stderr.includes(`cvm install --check: ${problem}\n`),
            bad.stderr,
          );
        }
        // install mends them.
        const mended = await cvm("--prefix", prefix, "--launcher");
        assertEquals(mended.code, 0, mended.stderr);
        assertEquals((await cvm("--check", "--prefix", prefix)).code, 0);
      },
    );

    await t.step(
      "a file it did not create, or that changed, stays unless --force",
      async () => {
        Deno.removeSync(`${bin}/cvm-unix`);
        Deno.writeTextFileSync(`${bin}/cvm-unix`, "#!/bin/sh\n# someone's\n");
        Deno.writeTextFileSync(`${lib}/deno.json`, "{}\n");
        const state = installed(prefix);
        const refused = await cvm("--prefix", prefix, "--launcher");
        assertEquals(refused.code, 1);
        for (
          const why of [
            `refusing to replace ${bin}/cvm-unix: a file that cvm install did not create`,
            `refusing to replace ${lib}/deno.json: changed since cvm install created it`,
          ]
        ) {
          expect(refused.stderr.includes(why), refused.stderr);
        }
        assertEquals(listingDiff(state, installed(prefix)), []);
        const shown = await cvm("--show", "--prefix", prefix, "--launcher");
        expect(
          new RegExp(`${bin}/cvm-unix -> cvm +refuse`).test(shown.stdout),
          shown.stdout,
        );
        const forced = await cvm("--prefix", prefix, "--launcher", "--force");
        assertEquals(forced.code, 0, forced.stderr);
        assertEquals(Deno.readLinkSync(`${bin}/cvm-unix`), "cvm");
        assertEquals(
          Deno.readFileSync(`${lib}/deno.json`),
          Deno.readFileSync(`${root}/deno.json`),
        );
        assertEquals((await cvm("--check", "--prefix", prefix)).code, 0);
      },
    );

    await t.step(
      "an upgrade removes what it no longer installs, unless changed",
      async () => {
        // As if an older version had installed lib/cvm/old/gone.ts.
        const old = "export const gone = 1;\n";
        Deno.mkdirSync(`${lib}/old`);
        Deno.writeTextFileSync(`${lib}/old/gone.ts`, old);
        Deno.writeTextFileSync(`${lib}/old/changed.ts`, "// edited\n");
        const hash = sha256(new TextEncoder().encode(old));
        Deno.writeTextFileSync(
          manifest,
          `dir\tlib/cvm/old\t0755\nfile\tlib/cvm/old/gone.ts\t0644\t${hash}\n` +
            `file\tlib/cvm/old/changed.ts\t0644\t${hash}\n`,
          { append: true },
        );
        const refused = await cvm("--prefix", prefix, "--launcher");
        assertEquals(refused.code, 1);
        expect(
          refused.stderr.includes(
            `refusing to remove ${lib}/old/changed.ts: changed since cvm install created it`,
          ),
          refused.stderr,
        );
        expect(exists(`${lib}/old/gone.ts`), "nothing removed");
        const forced = await cvm("--prefix", prefix, "--launcher", "--force");
        assertEquals(forced.code, 0, forced.stderr);
        // Updated: the manifest; removed: the two files and their directory.
        expect(
          / 0 created, 1 updated, \d+ unchanged, 3 removed$/m.test(
            forced.stdout,
          ),
          forced.stdout,
        );
        expect(!exists(`${lib}/old`), "lib/cvm/old is gone");
        expect(!Deno.readTextFileSync(manifest).includes("old/"), "unlisted");
      },
    );

    await t.step(
      "--uninstall removes exactly what the manifest lists",
      async () => {
        // Programs ran as root: deno's cache in the tree is not empty.
        expect(
          [...Deno.readDirSync(`${lib}/cache`)].length > 0,
          "the cache was used",
        );
        const removed = await run(`${bin}/cvm`, [
          "install",
          "--uninstall",
          "--prefix",
          prefix,
        ]);
        assertEquals(removed.code, 0, removed.stderr);
        assertEquals(listingDiff(before, listing(prefix)), []);
        const again = await cvm("--uninstall", "--prefix", prefix);
        assertEquals(again.code, 1);
        assertEquals(
          again.stderr,
          `cvm install --uninstall: no manifest: ${manifest}\n`,
        );
      },
    );
  } finally {
    tmp.cleanup();
  }
});

Deno.test("e2e installer: a compiled cvm installs, checks and uninstalls itself, and replaces a portable tree", async () => {
  await ensureDist();
  const tmp = tempDir();
  try {
    // The source tree's launcher stands in for a compiled binary: any
    // executable answering --list and the programs will do.
    const binary = `${tmp.path}/cvm`;
    Deno.copyFileSync(`${dist}/cvm`, binary);
    const prefix = `${tmp.path}/prefix`;
    Deno.mkdirSync(prefix);
    const options = { prefix, force: false, launcher: false };
    const source = findSource(false, binary);
    assertEquals(source, { kind: "compiled", binary });
    assertEquals(await install(options, source), 0);
    assertEquals(
      Deno.readFileSync(`${prefix}/bin/cvm`),
      Deno.readFileSync(binary),
    );
    const text = Deno.readTextFileSync(`${prefix}/share/cvm/install-manifest`);
    const hash = sha256(Deno.readFileSync(binary));
    expect(text.includes(`\nfile\tbin/cvm\t0755\t${hash}\n`), text);
    expect(text.includes(`\nlink\tbin/cvm-pwfile\tcvm\n`), text);
    assertEquals(await checkInstall(options), 0);

    // The portable tree over it, and the compiled binary back: the tree goes.
    const portable = findSource(true);
    assertEquals(portable.kind, "portable");
    assertEquals(await install(options, portable), 0);
    expect(exists(`${prefix}/lib/cvm/deno`), "the tree is there");
    assertEquals(await install(options, source), 0);
    expect(!exists(`${prefix}/lib`), "lib/ (made by the tree) is gone");
    assertEquals(await checkInstall(options), 0);

    Deno.writeTextFileSync(`${prefix}/bin/cvm`, "\n", { append: true });
    assertEquals(await checkInstall(options), 1);
    assertEquals(uninstall(options), 1);
    assertEquals(uninstall({ ...options, force: true }), 0);
    assertEquals([...Deno.readDirSync(prefix)], []);
  } finally {
    tmp.cleanup();
  }
});

Deno.test("e2e installer: deno compile (with $DENORT_BIN): the real binary installs, checks, uninstalls", async () => {
  const denort = Deno.env.get("DENORT_BIN");
  if (!denort) {
    // denort cannot be downloaded here and no npm package ships it.
    console.log("skip: $DENORT_BIN is not set (no deno compile runtime)");
    return;
  }
  const tmp = tempDir();
  try {
    const binary = `${tmp.path}/cvm`;
    const compiled = await run(Deno.execPath(), [
      "compile",
      "--allow-all",
      "--no-prompt",
      "--quiet",
      "--output",
      binary,
      `${root}/main.ts`,
    ], { cwd: root, env: { DENORT_BIN: denort } });
    assertEquals(compiled.code, 0, compiled.stderr);
    const prefix = `${tmp.path}/prefix`;
    const cvm = (...args: string[]) =>
      run(binary, ["install", "--prefix", prefix, ...args]);
    assertEquals((await cvm()).code, 0);
    assertEquals((await cvm("--check")).code, 0);
    const again = await cvm();
    expect(/ 0 created, 0 updated, /.test(again.stdout), again.stdout);
    assertEquals((await cvm("--uninstall")).code, 0);
    expect(!exists(prefix) || [...Deno.readDirSync(prefix)].length === 0, "");
  } finally {
    tmp.cleanup();
  }
});
