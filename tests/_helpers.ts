/**
 * Shared test helpers: build the launcher once, run programs, start module
 * servers, and skip (or fail, with CVM_TEST_REQUIRE_SERVICES=1) when a
 * reference program is missing.
 *
 * @module
 */

import dgram from "node:dgram";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The repository root. */
export const root = ROOT;

/** Where Debian's cvm (the reference) puts its programs. */
export const REF = "/usr/bin";

/** Where the launcher build puts our programs. */
export const dist = `${ROOT}/dist`;

let built: Promise<void> | undefined;

/**
 * Builds dist/ with `scripts/compile.sh --launcher` once per test process.
 *
 * @returns Settles when dist/ is ready.
 */
export function ensureDist(): Promise<void> {
  built ??= (async () => {
    const out = await new Deno.Command("bash", {
      args: [`${ROOT}/scripts/compile.sh`, "--launcher"],
      // The deno running the tests, not whatever shim is first on PATH.
      env: { DENO: Deno.execPath() },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `compile.sh --launcher failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  })();
  return built;
}

/** The outcome of running a program. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

/**
 * Runs a program to completion. Its stdin, stdout and stderr are plain
 * files, not pipes: Deno's pipes are non-blocking, and the reference's
 * programs spin forever on EAGAIN when they inherit one.
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param options Extra environment, stdin bytes, working directory.
 * @returns Exit code and output.
 */
export async function run(
  cmd: string,
  args: string[],
  options: {
    env?: Record<string, string>;
    /** Give the program exactly `env`, nothing of the test's own. */
    clearEnv?: boolean;
    stdin?: Uint8Array;
    cwd?: string;
  } = {},
): Promise<RunResult> {
  const io = Deno.makeTempDirSync({ prefix: "cvm-run-" });
  try {
    Deno.writeFileSync(`${io}/in`, options.stdin ?? new Uint8Array(0));
    // Deno ignores SIGPIPE and children inherit that; real callers leave it
    // at its default, so restore it for the program under test.
    const out = await new Deno.Command("/usr/bin/env", {
      args: [
        "--default-signal=PIPE",
        "sh",
        "-c",
        `exec "$0" "$@" <'${io}/in' >'${io}/out' 2>'${io}/err'`,
        cmd,
        ...args,
      ],
      env: options.env,
      clearEnv: options.clearEnv,
      cwd: options.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    const stdoutBytes = Deno.readFileSync(`${io}/out`);
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(stdoutBytes),
      stderr: dec.decode(Deno.readFileSync(`${io}/err`)),
      stdoutBytes,
    };
  } finally {
    Deno.removeSync(io, { recursive: true });
  }
}

/**
 * Whether a program exists; when it does not, either skips (logging why)
 * or, with CVM_TEST_REQUIRE_SERVICES=1, throws.
 *
 * @param path The program's path.
 * @returns True when present.
 */
export function have(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") {
      throw new Error(`${path} is required (CVM_TEST_REQUIRE_SERVICES=1)`);
    }
    console.log(`skip: ${path} is not installed`);
    return false;
  }
}

/** A module server started for a test, its stdout (log) and stderr captured. */
export interface Server {
  /** The process id (of `cmd`: the helper execs it). */
  pid: number;
  /** Lines logged so far on stdout. */
  log: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Waits for a log line matching the pattern (rejects if the server exits). */
  waitFor(pattern: RegExp): Promise<string>;
  /** Waits until the log has at least `count` lines (bounded; then returns anyway). */
  waitForLines(count: number): Promise<string[]>;
  /** Whether the process is still running. */
  running(): boolean;
  /** Stops it with SIGTERM and waits; returns the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts a module server and waits for `Starting.`.
 *
 * @param cmd The module program.
 * @param args E.g. ["cvm-local:/tmp/x.sock"].
 * @param env Extra environment (the whole environment with `clearEnv`).
 * @param options `clearEnv`: give it exactly `env`, nothing of the test's own.
 * @returns The running server.
 */
export async function startServer(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  options: { clearEnv?: boolean } = {},
): Promise<Server> {
  // SIGPIPE back to its default, as under a real supervisor (see `run`).
  const child = new Deno.Command("/usr/bin/env", {
    args: ["--default-signal=PIPE", cmd, ...args],
    env,
    clearEnv: options.clearEnv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  const log: string[] = [];
  let errText = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const readOut = (async () => {
    let pending = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        log.push(line);
        for (const w of [...waiters]) {
          if (w.pattern.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
  })();
  const readErr = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) errText += chunk;
  })();
  const waitFor = (pattern: RegExp) => {
    const seen = log.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve });
      child.status.then(() =>
        setTimeout(
          () =>
            reject(
              new Error(`server exited before ${pattern}; stderr: ${errText}`),
            ),
          100,
        )
      );
    });
  };
  await waitFor(/^Starting\.$/);
  const waitForLines = async (count: number) => {
    // The line is written before the reply, but this reader sees it through
    // a pipe: give it a moment.
    for (let i = 0; i < 400 && log.length < count && !exited; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return log;
  };
  return {
    pid: child.pid,
    log,
    stderr: () => errText,
    waitFor,
    waitForLines,
    running: () => !exited,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const status = await child.status;
      await readOut;
      await readErr;
      return status.code;
    },
  };
}

/**
 * A fresh temporary directory, removed by the returned function.
 *
 * @returns The path and a cleanup function.
 */
export function tempDir(): { path: string; cleanup: () => void } {
  const path = Deno.makeTempDirSync({ prefix: "cvm-test-" });
  return {
    path,
    cleanup: () => Deno.removeSync(path, { recursive: true }),
  };
}

/**
 * Whether there is something at a path.
 *
 * @param path The path.
 * @param options By default a symbolic link itself counts, dangling or not
 *   (lstat); with `followLinks: true` a link counts only when its target
 *   exists (stat).
 * @returns Whether it is there.
 */
export function exists(path: string, { followLinks = false } = {}): boolean {
  try {
    if (followLinks) Deno.statSync(path);
    else Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A file's text, or "" when it cannot be read (a log not written yet).
 *
 * @param path The file.
 * @returns Its text, or "".
 */
export function readTextOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** A free UDP port on 127.0.0.1 (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const port = socket.address().port;
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

/** The sample passwd file most tests use. */
export const SAMPLE_PASSWD = [
  "pwfuser:secret:1000:1000:PWF User,Room 1,555:/home/pwfuser:/bin/sh",
  "Bob:pw2:1001:100::/home/bob:",
  "carol:$6$saltsalt$jZBOucnQMcKhGbQ8vZvAkkJMkUei09muFmegadYhO80TBLAfV9YLmUcd87HmbJAN2V/Ut8IC1ByOvBKGGNab0.:1002:100:Carol:/home/carol:/bin/bash",
  "",
].join("\n");

/**
 * Asks again until the answer is the one expected, or `ms` have passed:
 * for what a server sees within a moment (a changed file, within a second),
 * never at once. Returns the last answer, for the test to assert on.
 *
 * @param ask Makes one attempt.
 * @param done Whether an answer is the one awaited.
 * @param ms How long to keep asking (generous: the machine is shared).
 * @returns The first answer that is done, else the last one.
 */
export async function eventually<T>(
  ask: () => Promise<T>,
  done: (answer: T) => boolean,
  ms = 5000,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const answer = await ask();
    if (done(answer) || performance.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
}
