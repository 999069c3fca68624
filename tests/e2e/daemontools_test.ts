/**
 * End to end, the seed's service: `cvm service` makes a daemontools service
 * directory for our cvm-pwfile on a local socket; svscan starts it with its
 * multilog logger; a validation through the socket shows up in the log as a
 * timestamped `+ user` line, a rejection as `- user`; `svc -d` stops it: the
 * socket is gone and `Stopping.` is logged. Also: the example service
 * directories are what `cvm service` makes, and the systemd units verify.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  expect,
  requirePrograms,
  root,
  skip,
  spawnGroup,
  waitUntil,
  which,
} from "./_helpers.ts";
import { exists, readTextOrEmpty, run, tempDir } from "../_helpers.ts";

const TAI64N = "@[0-9a-f]{24}";

Deno.test("e2e daemontools: svscan runs our cvm-pwfile service, multilog logs + and -, svc -d stops it", async () => {
  const programs = requirePrograms("daemontools", [
    "svscan",
    "supervise",
    "svc",
    "multilog",
    "envdir",
  ]);
  if (!programs) return;
  await ensureDist();
  const tmp = tempDir();
  const svcDir = `${tmp.path}/svc.d`;
  const scanDir = `${tmp.path}/service`;
  const socket = `${tmp.path}/cvm-pwfile.sock`;
  const name = "cvm-pwfile.local";
  const logFile = `${svcDir}/${name}/log/main/current`;
  let scan: ReturnType<typeof spawnGroup> | undefined;
  try {
    const pwfile = `${tmp.path}/passwd`;
    Deno.writeTextFileSync(
      pwfile,
      `bob:secret:1000:1000:Bob:${tmp.path}:/bin/sh\n`,
    );
    const made = await run(`${dist}/cvm`, [
      "service",
      name,
      "cvm-pwfile",
      socket,
      "--dir",
      svcDir,
      "--bindir",
      dist,
      "--env",
      `CVM_PWFILE_PATH=${pwfile}`,
    ]);
    assertEquals(made.code, 0, made.stderr);
    Deno.mkdirSync(scanDir);
    Deno.symlinkSync(`${svcDir}/${name}`, `${scanDir}/${name}`);
    // svscan finds the service (and its log/) and supervises both; PATH
    // must reach envdir and multilog.
    scan = spawnGroup(programs.svscan, [scanDir], {
      env: { PATH: `${dist}:/usr/local/bin:/usr/bin:/bin` },
    });
    const context = () =>
      `svscan:\n${scan!.output()}\nlog:\n${readTextOrEmpty(logFile)}`;
    await waitUntil("the module's socket", () => exists(socket), context);
    await waitUntil(
      "Starting. in the log",
      () =>
        new RegExp(`^${TAI64N} Starting\\.$`, "m").test(
          readTextOrEmpty(logFile),
        ),
      context,
    );

    const ok = await run(`${dist}/cvm-testclient`, [
      `cvm-local:${socket}`,
      "bob",
      "",
      "secret",
    ]);
    assertEquals(ok.code, 0, ok.stderr);
    expect(/^user name: +bob$/m.test(ok.stdout), `facts: ${ok.stdout}`);
    await waitUntil(
      "a timestamped '+ bob' line",
      () =>
        new RegExp(`^${TAI64N} \\+ bob$`, "m").test(readTextOrEmpty(logFile)),
      context,
    );

    const bad = await run(`${dist}/cvm-testclient`, [
      `cvm-local:${socket}`,
      "bob",
      "",
      "wrong",
    ]);
    assertEquals(bad.code, 100);
    await waitUntil(
      "a timestamped '- bob' line",
      () => new RegExp(`^${TAI64N} - bob$`, "m").test(readTextOrEmpty(logFile)),
      context,
    );
    expect(
      !readTextOrEmpty(logFile).includes("secret"),
      "a password was logged",
    );
    expect(
      !readTextOrEmpty(logFile).includes("wrong"),
      "a password was logged",
    );

    const down = await run(programs.svc, ["-d", `${scanDir}/${name}`]);
    assertEquals(down.code, 0, down.stderr);
    await waitUntil("the socket to go", () => !exists(socket), context);
    await waitUntil(
      "a timestamped 'Stopping.' line",
      () =>
        new RegExp(`^${TAI64N} Stopping\\.$`, "m").test(
          readTextOrEmpty(logFile),
        ),
      context,
    );
  } finally {
    if (scan) {
      // Let supervise stop the service and its logger, then end the group.
      await run(programs.svc, [
        "-dx",
        `${scanDir}/${name}`,
        `${scanDir}/${name}/log`,
      ])
        .catch(() => {});
      await scan.stop();
    }
    tmp.cleanup();
  }
});

Deno.test("e2e daemontools: the example service directories are what `cvm service` makes", async () => {
  await ensureDist();
  const tmp = tempDir();
  try {
    for (const module of ["cvm-unix", "cvm-pwfile", "cvm-pgsql"]) {
      const name = `${module}.local`;
      const made = await run(`${dist}/cvm`, [
        "service",
        name,
        module,
        `/run/${module}.sock`,
        "--dir",
        tmp.path,
      ]);
      assertEquals(made.code, 0, made.stderr);
      const example = `${root}/examples/daemontools/${name}`;
      assertEquals(listFiles(`${tmp.path}/${name}`), listFiles(example));
      for (const [path, mode] of listFiles(example)) {
        assertEquals(
          Deno.readTextFileSync(`${example}/${path}`),
          Deno.readTextFileSync(`${tmp.path}/${name}/${path}`),
          `${name}/${path} (mode ${mode})`,
        );
      }
    }
  } finally {
    tmp.cleanup();
  }
});

/** Files (not directories) under dir, with their executable bit. */
function listFiles(dir: string, prefix = ""): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (
    const entry of [...Deno.readDirSync(dir)].sort((a, b) =>
      a.name < b.name ? -1 : 1
    )
  ) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      out.push(...listFiles(`${dir}/${entry.name}`, `${path}/`));
    } else {
      const mode = Deno.statSync(`${dir}/${entry.name}`).mode ?? 0;
      out.push([path, mode & 0o100 ? "executable" : "plain"]);
    }
  }
  return out;
}

Deno.test("e2e daemontools: the example systemd units pass systemd-analyze verify", async () => {
  const analyze = which("systemd-analyze");
  if (analyze === undefined) {
    skip("systemd units", "not installed: systemd-analyze (package systemd)");
    return;
  }
  await ensureDist();
  const tmp = tempDir();
  try {
    const dir = `${root}/examples/systemd`;
    const units: string[] = [];
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.name.endsWith(".service")) continue;
      // verify wants ExecStart to exist: point it at our build (cvm-pgsql
      // may not be one of our programs yet: any module stands in for it).
      const text = Deno.readTextFileSync(`${dir}/${entry.name}`)
        .replaceAll("/usr/local/bin/", `${dist}/`)
        .replace(/\/cvm-[a-z]+ cvm-local:/, "/cvm-pwfile cvm-local:");
      Deno.writeTextFileSync(`${tmp.path}/${entry.name}`, text);
      units.push(`${tmp.path}/${entry.name}`);
    }
    expect(units.length >= 3, `units: ${units}`);
    const out = await run(analyze, ["verify", "--man=no", ...units]);
    assertEquals(out.code, 0, out.stderr);
  } finally {
    tmp.cleanup();
  }
});
