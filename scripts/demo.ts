/**
 * `deno task demo`: the main job on an embedded default. Starts cvm-pwfile
 * on a local socket over a sample account file, validates a user (and a
 * wrong password) with cvm-testclient, then prints the server's log.
 *
 * @module
 */

const SAMPLE = [
  "alice:wonderland:1000:1000:Alice Liddell,,,:/home/alice:/bin/sh",
  "bob:builder:1001:1001:Bob the Builder:/home/bob:/bin/bash",
  "",
].join("\n");

const main = new URL("../main.ts", import.meta.url).pathname;
const config = new URL("../deno.json", import.meta.url).pathname;

/** Runs one of our programs under this deno, the way the symlinks would. */
function program(name: string, args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      "--config",
      config,
      main,
      name,
      ...args,
    ],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

const dir = Deno.makeTempDirSync({ prefix: "cvm-demo-" });
const passwd = `${dir}/passwd`;
const socket = `${dir}/cvm-pwfile.sock`;
Deno.writeTextFileSync(passwd, SAMPLE);
const env = { CVM_PWFILE_PATH: passwd };

console.log(`$ CVM_PWFILE_PATH=${passwd} cvm-pwfile cvm-local:${socket} &`);
const server = program("cvm-pwfile", [`cvm-local:${socket}`], env).spawn();
try {
  const serverLog = server.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let log = "";
  while (!log.includes("Starting.\n")) {
    const { value, done } = await serverLog.read();
    if (done) throw new Error("cvm-pwfile exited before starting");
    log += value;
  }
  for (
    const [account, password] of [["alice", "wonderland"], ["alice", "guess"]]
  ) {
    console.log(
      `\n$ cvm-testclient cvm-local:${socket} ${account} '' ${password}`,
    );
    const out = await program("cvm-testclient", [
      `cvm-local:${socket}`,
      account,
      "",
      password,
    ], env).output();
    await Deno.stdout.write(out.stdout);
    await Deno.stdout.write(out.stderr);
    console.log(`(exit status ${out.code})`);
  }
  server.kill("SIGTERM");
  for (;;) {
    const { value, done } = await serverLog.read();
    if (done) break;
    log += value;
  }
  console.log(
    "\nThe module's log (stdout, one line per request, for multilog):",
  );
  console.log(log.trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
} finally {
  try {
    server.kill("SIGTERM");
  } catch { /* already stopped */ }
  await server.status;
  Deno.removeSync(dir, { recursive: true });
}
