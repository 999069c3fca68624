/**
 * End to end, the portable tree copied to another host with nothing around
 * it: `cvm install --launcher` from a copy of the checkout (as git sees it)
 * into a prefix; the copy is deleted, the prefix copied with `cp -a` and
 * the original deleted. With `env -i`, a PATH without deno and DENO_DIR an
 * empty directory (and, as root, deno's install, its cache and the checkout
 * hidden under empty mounts), the copy's programs answer as the reference's
 * do: cvm-pwfile in command and local mode validated by its cvm-testclient
 * and Debian's, and the seed's walkthrough (`cvm-checkpassword
 * cvm-local:…`) giving the next program the reference's environment.
 * `--check` passes on the copy and names an edited file; `--uninstall`
 * leaves the prefix as it was before the install.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dirname } from "node:path";
import {
  dist,
  ensureDist,
  expect,
  root,
  skip,
  startServer,
  which,
} from "../e2e/_helpers.ts";
import {
  exists,
  have,
  REF,
  run,
  type RunResult,
  tempDir,
} from "../_helpers.ts";
import { copyCheckout, hider, listing, listingDiff } from "./_helpers.ts";

const PASSWD = "bob:pw:65534:65534:Bob:/:/bin/sh\n";

Deno.test("e2e portable: installed from a copy of the checkout, moved with cp -a, runs with nothing around it", async (t) => {
  if (!have(`${REF}/cvm-testclient`) || !have(`${REF}/cvm-checkpassword`)) {
    return;
  }
  if (which("git") === undefined) {
    skip("e2e portable", "git is not installed");
    return;
  }
  await ensureDist();
  const tmp = tempDir();
  const checkout = `${tmp.path}/checkout`;
  const first = `${tmp.path}/prefix`;
  const moved = `${tmp.path}/moved`;
  const emptyDenoDir = `${tmp.path}/empty-deno-dir`;
  const tools = `${tmp.path}/tools`;
  const passwd = `${tmp.path}/passwd`;
  const socket = `${tmp.path}/cvm-pwfile.sock`;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    Deno.writeTextFileSync(passwd, PASSWD);
    Deno.mkdirSync(emptyDenoDir);
    // PATH holds sh (which run() execs through) and nothing else: no deno,
    // not even readlink (the launcher falls back to /usr/bin and /bin).
    Deno.mkdirSync(tools);
    Deno.symlinkSync("/bin/sh", `${tools}/sh`);
    const clean = { PATH: tools, DENO_DIR: emptyDenoDir };

    // Something of the admin's already under the prefix: it must survive.
    Deno.mkdirSync(`${first}/bin`, { recursive: true });
    Deno.mkdirSync(`${first}/share/doc`, { recursive: true });
    Deno.writeTextFileSync(`${first}/bin/other-tool`, "#!/bin/sh\n");
    Deno.writeTextFileSync(`${first}/share/doc/README`, "the admin's\n");
    const before = listing(first);

    await t.step(
      "install from a copy of the checkout, then delete it",
      async () => {
        const copied = await copyCheckout(root, checkout);
        expect((copied ?? 0) > 0, "copied the checkout");
        const installed = await run(Deno.execPath(), [
          "run",
          "--allow-all",
          "--quiet",
          "--config",
          `${checkout}/deno.json`,
          `${checkout}/main.ts`,
          "install",
          "--launcher",
          "--prefix",
          first,
        ], { cwd: tmp.path });
        assertEquals(installed.code, 0, installed.stderr);
        // Unchanged: bin/ and share/, the admin's before.
        expect(
          / created, 0 updated, 2 unchanged, 0 removed$/m.test(
            installed.stdout,
          ),
          installed.stdout,
        );
        // compile.sh --portable writes the same tree: the same manifest,
        // but for bin/ and share/, which it made there.
        const again = `${tmp.path}/portable`;
        const script = await run("/bin/bash", [
          `${checkout}/scripts/compile.sh`,
          "--portable",
          again,
        ], { env: { DENO: Deno.execPath() } });
        assertEquals(script.code, 0, script.stderr);
        const manifest = (prefix: string) =>
          Deno.readTextFileSync(`${prefix}/share/cvm/install-manifest`);
        assertEquals(
          manifest(again).replace(/^dir\t(bin|share)\t0755\n/gm, ""),
          manifest(first),
        );
        Deno.removeSync(again, { recursive: true });
        // Nothing in the tree names the checkout it came from.
        for (const path of [checkout, root]) {
          const grep = await run("grep", ["-r", "-l", "-F", "--", path, first]);
          assertEquals(grep.code, 1, `files naming ${path}:\n${grep.stdout}`);
        }
        Deno.removeSync(checkout, { recursive: true });
      },
    );

    await t.step(
      "cp -a the prefix elsewhere and delete the first",
      async () => {
        const cp = await run("cp", ["-a", first, moved]);
        assertEquals(cp.code, 0, cp.stderr);
        Deno.removeSync(first, { recursive: true });
      },
    );

    // As root, also hide deno's own install, its cache and the checkout.
    const hidden = [
      dirname(Deno.realPathSync(Deno.execPath())),
      root,
      Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    ];
    const hide = await hider(
      hidden.filter((path) => exists(path, { followLinks: true })),
    );
    if (hide === undefined) {
      console.log("note: cannot unshare a mount namespace; deno stays visible");
    }
    const alone = (cmd: string, args: string[], env = {}, stdin?: string) => {
      const [c, a] = hide ? hide(cmd, args) : [cmd, args];
      return run(c, a, {
        env: { ...clean, ...env },
        clearEnv: true,
        cwd: "/",
        stdin: stdin === undefined
          ? undefined
          : new TextEncoder().encode(stdin),
      });
    };
    const refEnv = { PATH: "/usr/bin:/bin", CVM_PWFILE_PATH: passwd };
    const reference = (args: string[]) =>
      run(`${REF}/cvm-testclient`, args, { env: refEnv, clearEnv: true });
    const same = (ours: RunResult, ref: RunResult) => {
      assertEquals(
        { code: ours.code, stdout: ours.stdout },
        { code: ref.code, stdout: ref.stdout },
        ours.stderr,
      );
    };
    const bin = `${moved}/bin`;
    const elsewhere = `${tmp.path}/elsewhere`;
    Deno.mkdirSync(elsewhere);
    Deno.symlinkSync(`${bin}/cvm-testclient`, `${elsewhere}/cvm-testclient`);

    await t.step(
      "command mode: its cvm-testclient and Debian's, against its cvm-pwfile",
      async () => {
        for (const password of ["pw", "wrong"]) {
          const ref = await reference([
            `cvm-command:${REF}/cvm-pwfile`,
            "bob",
            "",
            password,
          ]);
          assertEquals(ref.code, password === "pw" ? 0 : 100, ref.stderr);
          for (
            const client of [
              `${bin}/cvm-testclient`,
              `${REF}/cvm-testclient`,
              // A link to the program link from another directory.
              `${elsewhere}/cvm-testclient`,
            ]
          ) {
            same(
              await alone(client, [
                `cvm-command:${bin}/cvm-pwfile`,
                "bob",
                "",
                password,
              ], { CVM_PWFILE_PATH: passwd }),
              ref,
            );
          }
        }
      },
    );

    await t.step(
      "local mode: its cvm-pwfile on a socket, both clients",
      async () => {
        const [cmd, args] = hide
          ? hide(`${bin}/cvm-pwfile`, [`cvm-local:${socket}`])
          : [`${bin}/cvm-pwfile`, [`cvm-local:${socket}`]];
        server = await startServer(cmd, args, {
          ...clean,
          CVM_PWFILE_PATH: passwd,
        }, { clearEnv: true });
        const ref = await reference([
          `cvm-command:${REF}/cvm-pwfile`,
          "bob",
          "",
          "pw",
        ]);
        for (
          const client of [`${bin}/cvm-testclient`, `${REF}/cvm-testclient`]
        ) {
          same(
            await alone(client, [`cvm-local:${socket}`, "bob", "", "pw"]),
            ref,
          );
        }
        const rejected = await alone(`${bin}/cvm-testclient`, [
          `cvm-local:${socket}`,
          "bob",
          "",
          "wrong",
        ]);
        assertEquals(rejected.code, 100, rejected.stderr);
        await server.waitFor(/^- bob$/);
        expect(server.log.includes("+ bob"), server.log.join("\n"));
      },
    );

    await t.step(
      "the seed's walkthrough: cvm-checkpassword cvm-local:… gives the reference's environment",
      async () => {
        // fd 3 carries the credentials, as qmail-popup hands them over.
        const fd3 = `${tmp.path}/fd3`;
        Deno.writeFileSync(fd3, new TextEncoder().encode("bob\0pw\0"));
        const checkpassword = (program: string, runner: typeof alone) =>
          runner("/bin/bash", [
            "-c",
            `exec '${program}' cvm-local:'${socket}' /usr/bin/env 3<'${fd3}'`,
          ]);
        const ours = await checkpassword(`${bin}/cvm-checkpassword`, alone);
        const ref = await checkpassword(
          `${REF}/cvm-checkpassword`,
          (cmd, args) =>
            run(cmd, args, { env: clean, clearEnv: true, cwd: "/" }),
        );
        assertEquals(ref.code, 0, ref.stderr);
        assertEquals(ours.code, 0, ours.stderr);
        const vars = (r: RunResult) => r.stdout.split("\n").sort();
        assertEquals(vars(ours), vars(ref));
        expect(/^USER=bob$/m.test(ours.stdout), ours.stdout);
        await server!.waitForLines(5);
        assertEquals(server!.log.filter((l) => l === "+ bob").length, 4);
        assertEquals(await server!.stop(), 0);
        server = undefined;
      },
    );

    await t.step(
      "every program loads in the moved tree as in the source tree",
      async () => {
        const listed = await alone(`${bin}/cvm`, ["--list"]);
        assertEquals(listed.code, 0, listed.stderr);
        const names = listed.stdout.trim().split("\n");
        expect(names.length > 30, listed.stdout);
        for (const name of names) {
          // No arguments, no settings: each loads its code (a module's
          // backend, the npm drivers included) and fails its own way.
          const ours = await alone(`${bin}/${name}`, [], {}, "");
          // The source tree's launcher uses the test's own deno cache.
          const source = await run(`${dist}/${name}`, [], {
            env: { PATH: tools, HOME: Deno.env.get("HOME") ?? "/" },
            clearEnv: true,
            cwd: "/",
            stdin: new Uint8Array(0),
          });
          assertEquals(
            { name, code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
            {
              name,
              code: source.code,
              stdout: source.stdout,
              stderr: source.stderr,
            },
          );
        }
      },
    );

    await t.step("deno's cache stayed in the tree", () => {
      assertEquals([...Deno.readDirSync(emptyDenoDir)], []);
    });

    await t.step(
      "--check passes on the moved copy and names an edited file",
      async () => {
        const check = () =>
          alone(`${bin}/cvm`, ["install", "--check", "--prefix", moved]);
        const ok = await check();
        assertEquals(ok.code, 0, ok.stderr);
        expect(/^cvm install --check: ok: /.test(ok.stdout), ok.stdout);
        const edited = `${moved}/lib/cvm/programs.ts`;
        const original = Deno.readFileSync(edited);
        Deno.writeTextFileSync(edited, "// edited\n", { append: true });
        const bad = await check();
        assertEquals(bad.code, 1);
        assertEquals(
          bad.stderr,
          `cvm install --check: changed (checksum differs from the manifest): ${edited}\n`,
        );
        const kept = await alone(`${bin}/cvm`, [
          "install",
          "--uninstall",
          "--prefix",
          moved,
        ]);
        assertEquals(kept.code, 1);
        expect(
          kept.stderr.includes(`refusing to remove ${edited}: changed since`),
          kept.stderr,
        );
        expect(Deno.statSync(`${bin}/cvm`).isFile, "uninstall removed nothing");
        Deno.writeFileSync(edited, original);
        assertEquals((await check()).code, 0);
      },
    );

    await t.step(
      "--uninstall leaves the prefix as it was before the install",
      async () => {
        const removed = await alone(`${bin}/cvm`, [
          "install",
          "--uninstall",
          "--prefix",
          moved,
        ]);
        assertEquals(removed.code, 0, removed.stderr);
        assertEquals(listingDiff(before, listing(moved)), []);
      },
    );
  } finally {
    if (server) await server.stop();
    tmp.cleanup();
  }
});
