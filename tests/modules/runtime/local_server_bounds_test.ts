/**
 * The local server at its open-file limit: more idle clients than it has
 * descriptors wait in the kernel's backlog instead of ending the process,
 * and an accept() failing for want of descriptors is reported once and
 * passes.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import {
  dist,
  ensureDist,
  have,
  run,
  SAMPLE_PASSWD,
  startServer,
  tempDir,
} from "../../_helpers.ts";

/** Reads until the server hangs up: the bytes it sent, -1 for a reset. */
async function readToEnd(conn: Deno.UnixConn): Promise<number> {
  const buffer = new Uint8Array(64);
  let total = 0;
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return total;
      total += n;
    }
  } catch {
    return -1; // reset: the server went away
  }
}

Deno.test("local server under a 64-descriptor limit outlives 100 idle clients and answers the next one", async () => {
  if (!have("/usr/bin/prlimit")) return;
  await ensureDist();
  const dir = tempDir();
  const pw = `${dir.path}/passwd`;
  Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
  const sock = `${dir.path}/s`;
  // Soft and hard limit 64: raising the soft limit gains nothing here.
  const server = await startServer("/usr/bin/prlimit", [
    "--nofile=64",
    "--",
    `${dist}/cvm-pwfile`,
    `cvm-local:${sock}`,
  ], { CVM_PWFILE_PATH: pw, CVM_LOCAL_TIMEOUT: "300" });
  const idle: Deno.UnixConn[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      idle.push(await Deno.connect({ transport: "unix", path: sock }));
    }
    // Every idle client is hung up on after its timeout, the ones past
    // the server's limit once they got their turn: none is lost, none
    // gets a reply.
    const replies = await Promise.all(idle.map(readToEnd));
    assertEquals(replies.filter((n) => n !== 0), []);
    const r = await authenticatePassword(`cvm-local:${sock}`, {
      account: "pwfuser",
      password: "secret",
    });
    assertEquals(r.code, 0);
    assert.ok(server.running(), "the server is alive");
    assert.ok(Deno.statSync(sock).isSocket, "its socket is still there");
    assert.ok(!server.log.includes("Stopping."));
    assert.ok(!server.stderr().includes("Fatal"), server.stderr());
    // It says how many it serves at once under this limit.
    assert.match(server.stderr(), /at most 32 connections at once/);
    assertEquals(await server.stop(), 0);
    assertEquals(server.log.at(-1), "Stopping.");
  } finally {
    for (const conn of idle) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await server.stop();
    dir.cleanup();
  }
});

/** The pid of the program strace runs (strace's only child). */
function tracee(stracePid: number): number {
  const children = Deno.readTextFileSync(
    `/proc/${stracePid}/task/${stracePid}/children`,
  ).trim();
  return Number(children.split(" ")[0]);
}

Deno.test("local server reports accept() failing with EMFILE once and keeps serving", async () => {
  if (!have("/usr/bin/strace")) return;
  await ensureDist();
  const dir = tempDir();
  const pw = `${dir.path}/passwd`;
  Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
  const sock = `${dir.path}/s`;
  // The first five accept() calls fail as if out of descriptors.
  const server = await startServer("strace", [
    "-f",
    "-qq",
    "-o",
    "/dev/null",
    "-e",
    "trace=accept4",
    "-e",
    "inject=accept4:error=EMFILE:when=1..5",
    `${dist}/cvm-pwfile`,
    `cvm-local:${sock}`,
  ], { CVM_PWFILE_PATH: pw, PATH: "/usr/bin:/bin" });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await authenticatePassword(`cvm-local:${sock}`, {
        account: "pwfuser",
        password: "secret",
      });
      assertEquals(r.code, 0);
    }
    const lines = server.stderr().split("\n").filter((l) => l !== "");
    assertEquals(lines, [
      `cvm-pwfile: accept on ${sock}: Too many open files (os error 24) (EMFILE); pausing`,
    ]);
    assert.ok(server.running());
    // strace passes no SIGTERM on: stop the module itself.
    Deno.kill(tracee(server.pid), "SIGTERM");
    assertEquals(await server.stop(), 0);
    assertEquals(server.log.at(-1), "Stopping.");
  } finally {
    if (server.running()) Deno.kill(tracee(server.pid), "SIGKILL");
    await server.stop();
    dir.cleanup();
  }
});

Deno.test("local server whose accept() fails for good exits non-zero and removes its socket", async () => {
  if (!have("/usr/bin/strace")) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const sock = `${dir.path}/s`;
    // From the second accept() on, every call fails with an error that
    // does not pass (EPERM): the loop ends without anyone stopping it.
    const server = await startServer("strace", [
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-e",
      "trace=accept4",
      "-e",
      "inject=accept4:error=EPERM:when=2+",
      `${dist}/cvm-pwfile`,
      `cvm-local:${sock}`,
    ], { CVM_PWFILE_PATH: pw, PATH: "/usr/bin:/bin" });
    // A client wakes the loop up (its own answer does not matter here).
    await authenticatePassword(`cvm-local:${sock}`, {
      account: "pwfuser",
      password: "secret",
    });
    const code = await server.stop(); // waits; strace passes no SIGTERM on
    assertEquals(code, 4, "IO: a supervisor starts it again");
    assert.match(
      server.stderr(),
      /^cvm-pwfile: Fatal: serving ended without a stop: .*EPERM/m,
    );
    assert.ok(!server.log.includes("Stopping."));
    assert.throws(() => Deno.statSync(sock), "the socket file is removed");
  } finally {
    dir.cleanup();
  }
});

Deno.test("local server with CVM_MAX_IN_FLIGHT=1 leaves a second client in the backlog until the first is done", async () => {
  await ensureDist();
  const dir = tempDir();
  const pw = `${dir.path}/passwd`;
  Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
  const sock = `${dir.path}/s`;
  const server = await startServer(`${dist}/cvm-pwfile`, [
    `cvm-local:${sock}`,
  ], { CVM_PWFILE_PATH: pw, CVM_LOCAL_TIMEOUT: "300", CVM_MAX_IN_FLIGHT: "1" });
  const idle = await Deno.connect({ transport: "unix", path: sock });
  try {
    const events: string[] = [];
    const first = readToEnd(idle).then(() => events.push("first hung up"));
    const second = authenticatePassword(`cvm-local:${sock}`, {
      account: "pwfuser",
      password: "secret",
    }).then((r) => events.push(`second answered ${r.code}`));
    await Promise.all([first, second]);
    assertEquals(events, ["first hung up", "second answered 0"]);
    assertEquals(await server.stop(), 0);
  } finally {
    idle.close();
    await server.stop();
    dir.cleanup();
  }
});

Deno.test("a CVM_MAX_IN_FLIGHT that is not a positive number is CONFIG at start, naming it", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    for (const value of ["0", "-1", "many"]) {
      const out = await run(`${dist}/cvm-pwfile-local`, [`${dir.path}/s`], {
        env: { CVM_PWFILE_PATH: "/dev/null", CVM_MAX_IN_FLIGHT: value },
      });
      assertEquals(out.code, 6, value);
      assertEquals(
        out.stderr,
        "cvm-pwfile-local: Fatal: $CVM_MAX_IN_FLIGHT is not a positive number\n",
      );
    }
  } finally {
    dir.cleanup();
  }
});
