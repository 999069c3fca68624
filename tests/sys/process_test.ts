import {
  chdir,
  getegid,
  geteuid,
  getuid,
  resolveExecutable,
  setegid,
  seteuid,
} from "../../sys/process.ts";
import { assert, assertEquals } from "./_assert.ts";

const PROCESS_TS = new URL("../../sys/process.ts", import.meta.url).href;

// Runs `body` as a Deno script in a child process (exec and privilege drops
// cannot be undone, so they never run in the test process itself).
async function runScript(body: string) {
  const dir = await Deno.makeTempDir({ prefix: "cvm-sys-test-" });
  try {
    const script = `${dir}/script.ts`;
    await Deno.writeTextFile(
      script,
      `import * as sys from ${JSON.stringify(PROCESS_TS)};\n${body}\n`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", script],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder();
    return {
      pid: child.pid,
      code,
      stdout: text.decode(stdout),
      stderr: text.decode(stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("execve() runs /bin/echo with the given argv in place of the Deno process", async () => {
  const result = await runScript(
    `sys.execve("/bin/echo", ["echo", "hello", "wörld", ""], {});`,
  );
  assertEquals(result.code, 0);
  assertEquals(result.stdout, "hello wörld \n");
});

Deno.test("execve() keeps the process id: the shell's $$ is the pid of the spawned Deno child", async () => {
  const result = await runScript(`
    console.log(Deno.pid);
    sys.execve("/bin/sh", ["sh", "-c", "echo $$"], {});
  `);
  assertEquals(result.code, 0);
  const [before, after] = result.stdout.trim().split("\n").map(Number);
  assertEquals(before, result.pid);
  assertEquals(after, result.pid);
});

Deno.test("execve() gives the new program exactly the environment passed", async () => {
  const result = await runScript(
    `sys.execve("/usr/bin/env", ["env"], { A: "1", B: "x=y", C: "é" });`,
  );
  assertEquals(result.stdout, "A=1\nB=x=y\nC=é\n");
});

Deno.test("execve() hands the new program SIGPIPE at its default, not ignored as in Deno", async () => {
  const result = await runScript(
    `sys.execve("/bin/sh", ["sh", "-c", "grep ^SigIgn: /proc/$$/status"], {});`,
  );
  const ignored = BigInt("0x" + result.stdout.split(/\s+/)[1]);
  assert((ignored & (1n << 12n)) === 0n, `SigIgn ${result.stdout}`); // signal 13
});

Deno.test("execve() that fails throws an Error naming execve and errno, and Deno carries on", async () => {
  const result = await runScript(`
    for (const path of ["/nonexistent/prog", "/etc/passwd"]) {
      try { sys.execve(path, ["x"], {}); } catch (e) { console.log(String(e)); }
    }
    try { sys.execve("/bin/echo", ["echo", "a\\0b"], {}); } catch (e) { console.log(String(e)); }
    console.log("still here");
  `);
  assertEquals(result.stdout.split("\n"), [
    "Error: execve(/nonexistent/prog) failed: ENOENT (errno 2)",
    "Error: execve(/etc/passwd) failed: EACCES (errno 13)",
    "Error: execve(/bin/echo) failed: EINVAL (errno 22)",
    "still here",
    "",
  ]);
});

Deno.test("setgroups(), setgid() and setuid() drop to nobody for good, as id(1) then shows", async () => {
  assert(getuid() === 0, "this test needs root");
  const result = await runScript(`
    sys.setgroups([65534, 100]);
    sys.setgid(65534);
    sys.setuid(65534);
    console.log(sys.getuid(), sys.geteuid());
    for (const f of [() => sys.setuid(0), () => sys.setgid(0), () => sys.setgroups([0])]) {
      try { f(); } catch (e) { console.log(String(e)); }
    }
    sys.execve("/usr/bin/id", ["id", "-u"], {});
  `);
  assertEquals(result.stdout.split("\n").slice(0, 4), [
    "65534 65534",
    "Error: setuid(0) failed: EPERM (errno 1)",
    "Error: setgid(0) failed: EPERM (errno 1)",
    "Error: setgroups(0) failed: EPERM (errno 1)",
  ]);
  assertEquals(result.stdout.split("\n")[4], "65534");
});

Deno.test("setgroups() sets exactly the supplementary groups given, seen by the exec'd program", async () => {
  const result = await runScript(`
    sys.setgroups([65534, 100, 4242]);
    sys.setgid(65534);
    sys.setuid(65534);
    sys.execve("/usr/bin/id", ["id", "-G"], {});
  `);
  assertEquals(result.stdout.trim().split(" ").sort(), [
    "100",
    "4242",
    "65534",
  ]);
});

Deno.test("getuid() and geteuid() match Deno.uid()", () => {
  assertEquals(getuid(), Deno.uid());
  assertEquals(geteuid(), Deno.uid());
});

Deno.test("chdir() changes the working directory and throws naming chdir and ENOENT on failure", async () => {
  const before = Deno.cwd();
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    chdir(dir);
    assertEquals(Deno.cwd(), dir);
    let message = "";
    try {
      chdir(`${dir}/missing`);
    } catch (e) {
      message = String(e);
    }
    assertEquals(
      message,
      `Error: chdir(${dir}/missing) failed: ENOENT (errno 2)`,
    );
    assertEquals(Deno.cwd(), dir);
  } finally {
    chdir(before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveExecutable() searches PATH like execvp: first executable file wins", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const d of ["a", "b", "c"]) await Deno.mkdir(`${root}/${d}`);
    await Deno.writeTextFile(`${root}/a/prog`, "not executable");
    await Deno.mkdir(`${root}/b/prog`); // a directory is skipped too
    await Deno.writeTextFile(`${root}/c/prog`, "#!/bin/sh\n", { mode: 0o755 });
    const path = `${root}/a:${root}/b:${root}/c`;
    assertEquals(resolveExecutable("prog", path), `${root}/c/prog`);
    assertEquals(resolveExecutable("prog", `${root}/a:${root}/b`), undefined);
    assertEquals(resolveExecutable("nothere", path), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("resolveExecutable() takes a name with a slash as is, and an empty name as nothing", () => {
  assertEquals(resolveExecutable("./prog", "/bin"), "./prog");
  assertEquals(resolveExecutable("/x/y", "/bin"), "/x/y");
  assertEquals(resolveExecutable("", "/bin"), undefined);
});

Deno.test("resolveExecutable() reads an empty PATH entry as . and a missing PATH as /bin:/usr/bin", async () => {
  assertEquals(resolveExecutable("sh", undefined), "/bin/sh");
  const before = Deno.cwd();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/prog`, "#!/bin/sh\n", { mode: 0o755 });
    chdir(dir);
    assertEquals(resolveExecutable("prog", "/nonexistent:"), "./prog");
    assertEquals(resolveExecutable("prog", "/nonexistent"), undefined);
  } finally {
    chdir(before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("seteuid() and setegid() switch the effective ids and back, keeping the saved root", () => {
  if (Deno.uid() !== 0) {
    console.log("skip: needs root");
    return;
  }
  setegid(65534);
  seteuid(65534);
  try {
    assertEquals([geteuid(), getegid()], [65534, 65534]);
  } finally {
    seteuid(0);
    setegid(0);
  }
  assertEquals([geteuid(), getegid()], [0, 0]);
});
