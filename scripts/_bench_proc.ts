/**
 * Process handling for the benchmark: every process it starts is recorded
 * here and ended by {@link stopAll} (on normal exit, on error and on
 * SIGINT/SIGTERM), by its own id only.
 *
 * @module
 */

import { V8_FLAGS } from "../installer/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * `deno run` as the launcher runs our programs (its flags, this tree's
 * deno.json): for the floor servers and for `deno run` of an empty file.
 */
export const DENO_RUN: readonly string[] = [
  Deno.execPath(),
  "run",
  "--allow-all",
  "--quiet",
  "--no-prompt",
  `--v8-flags=${V8_FLAGS}`,
  "--config",
  `${ROOT}/deno.json`,
];

/** A floor server (see `_bench_floor.ts`): add its mode and where. */
export const FLOOR: readonly string[] = [
  ...DENO_RUN,
  `${ROOT}/scripts/_bench_floor.ts`,
];

const live = new Set<Deno.ChildProcess>();
/** Set once a signal asked the bench to stop: nothing new is started. */
let closing = false;

function spawn(
  program: string,
  options: Deno.CommandOptions,
): Deno.ChildProcess {
  if (closing) throw new Error("the bench is stopping");
  return track(new Deno.Command(program, options).spawn());
}

function track(child: Deno.ChildProcess): Deno.ChildProcess {
  live.add(child);
  child.status.finally(() => live.delete(child)).catch(() => {});
  return child;
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch { /* already gone */ }
}

/**
 * Ends every process the benchmark started and is still running: SIGTERM,
 * then SIGKILL for whatever has not exited within `graceMs`.
 *
 * @param graceMs How long to wait after SIGTERM.
 * @returns When all are gone.
 * @example
 * ```ts
 * import { stopAll } from "./_bench_proc.ts";
 * await stopAll();
 * ```
 */
export async function stopAll(graceMs = 2000): Promise<void> {
  const children = [...live];
  for (const child of children) signal(child, "SIGTERM");
  await Promise.all(children.map(async (child) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), graceMs);
    });
    const outcome = await Promise.race([
      child.status.then(() => "done" as const, () => "done" as const),
      late,
    ]);
    clearTimeout(timer);
    if (outcome === "late") {
      signal(child, "SIGKILL");
      await child.status.catch(() => {});
    }
  }));
}

/**
 * Makes sure the benchmark's processes die with it: SIGINT and SIGTERM stop
 * them and exit; the unload event SIGKILLs any left (synchronously).
 *
 * @param onSignal Extra synchronous cleanup before exit (e.g. the temp dir).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // They end the process, so show them in a child, stopped with SIGTERM.
 * const program = `import { installExitHandlers } from "${import.meta.resolve("./_bench_proc.ts")}";
 *   installExitHandlers(() => console.log("cleaned up"));
 *   console.log("ready");
 *   setTimeout(() => {}, 60_000);`;
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["eval", program], stdout: "piped", stderr: "null",
 * }).spawn();
 * const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
 * assert.equal((await lines.read()).value, "ready\n");
 * child.kill("SIGTERM");
 * let rest = "";
 * for (let r = await lines.read(); !r.done; r = await lines.read()) rest += r.value;
 * assert.equal(rest, "cleaned up\n");
 * assert.equal((await child.status).code, 143);
 * ```
 */
export function installExitHandlers(onSignal: () => void): void {
  for (const [sig, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    Deno.addSignalListener(sig, () => {
      closing = true;
      console.error(`\nbench: ${sig}, stopping the processes it started`);
      stopAll(500).finally(() => {
        onSignal();
        Deno.exit(status);
      });
    });
  }
  globalThis.addEventListener("unload", () => {
    for (const child of live) signal(child, "SIGKILL");
  });
}

/** The environment for every child: ours minus any `CVM_*`, plus `extra`. */
export function childEnv(
  extra: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!key.startsWith("CVM_")) env[key] = value;
  }
  return { ...env, ...extra };
}

/** A module server started for the benchmark. */
export interface Server {
  /** A label for messages. */
  label: string;
  /** The process id (the server's own: the shell and the launcher exec). */
  pid: number;
  /** Its log (stdout), as written so far. */
  log(): string;
  /** How many requests its log says it accepted (`+` lines) so far. */
  accepted(): number;
  /** The end of what it wrote on stderr, for a diagnostic. */
  stderrTail(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** Resolves when a log line equals `line`; rejects on timeout or exit. */
  waitFor(line: string, timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 2 s. */
  stop(): Promise<void>;
}

/**
 * Starts a module server with its log (stdout) going to the file `logPath`
 * rather than a pipe, so the bench spends no CPU reading it while it
 * measures; stderr is drained (it says little).
 *
 * @param label A name for messages.
 * @param argv Program and arguments.
 * @param env The child's whole environment.
 * @param logPath Where its stdout goes.
 * @returns The server; wait for `Starting.` before using it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childEnv, startServer } from "./_bench_proc.ts";
 * const dir = await Deno.makeTempDir();
 * // A module server stand-in that says "Starting." and waits to be stopped.
 * const s = startServer("demo", ["sh", "-c", "echo Starting.; exec sleep 60"],
 *   childEnv({}), `${dir}/demo.log`);
 * try {
 *   await s.waitFor("Starting.", 5000);
 * } finally {
 *   await s.stop();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * assert.equal(await Deno.stat(dir).catch(() => undefined), undefined);
 * ```
 */
export function startServer(
  label: string,
  argv: string[],
  env: Record<string, string>,
  logPath: string,
): Server {
  // sh opens the log file and execs the server: the pid stays the server's.
  const child = spawn("/bin/sh", {
    args: ["-c", 'log=$1; shift; exec "$@" >"$log"', "sh", logPath, ...argv],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  let done = false;
  child.status.finally(() => done = true).catch(() => {});
  let stderr = "";
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr = (stderr + decoder.decode(chunk, { stream: true })).slice(-2000);
    }
  })().catch(() => {});
  const log = () => {
    try {
      return Deno.readTextFileSync(logPath);
    } catch {
      return "";
    }
  };
  return {
    label,
    pid: child.pid,
    log,
    accepted() {
      let n = 0;
      for (const line of log().split("\n")) if (line.startsWith("+ ")) n++;
      return n;
    },
    stderrTail: () => stderr.trim(),
    exited: () => done,
    async waitFor(line, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (log().split("\n").includes(line)) return;
        if (done) {
          throw new Error(
            `${label}: exited before "${line}": ${
              stderr.trim() || "(no stderr)"
            }`,
          );
        }
        if (performance.now() > deadline) {
          throw new Error(`${label}: no "${line}" within ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (done) return;
      signal(child, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        child.status.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), 2000)),
      ]);
      clearTimeout(timer);
      if (late) {
        signal(child, "SIGKILL");
        await child.status;
      }
    },
  };
}

/** How a client run ended. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Wall time in seconds from spawn to exit. */
  seconds: number;
  /** What it wrote on stderr. */
  stderr: string;
}

/**
 * Runs a client to completion and times it (wall clock, spawn to exit).
 *
 * @param argv Program and arguments.
 * @param env The child's whole environment.
 * @returns Exit code, seconds, stderr.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childEnv, runTimed } from "./_bench_proc.ts";
 * const r = await runTimed(["/bin/true"], childEnv({}));
 * assert.equal(r.code, 0);
 * ```
 */
export async function runTimed(
  argv: string[],
  env: Record<string, string>,
): Promise<RunResult> {
  const start = performance.now();
  const child = spawn(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const [status, errBytes] = await Promise.all([
    child.status,
    new Response(child.stderr).arrayBuffer(),
  ]);
  const seconds = (performance.now() - start) / 1000;
  return {
    code: status.code,
    seconds,
    stderr: new TextDecoder().decode(errBytes).trim(),
  };
}

/**
 * The resident set size of a process, from `VmRSS` in /proc/PID/status.
 *
 * @param pid The process id.
 * @returns Bytes, or undefined when it cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { residentBytes } from "./_bench_proc.ts";
 * assert.ok((residentBytes(Deno.pid) ?? 0) > 0); // e.g. 52428800
 * assert.equal(residentBytes(-1), undefined);
 * ```
 */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure one of our programs is there to measure: when `path` is
 * missing, builds dist/ with `scripts/compile.sh --launcher` (a compiled
 * build already in dist/ is measured as it is).
 *
 * @param path The program, e.g. dist/cvm-pgsql-local.
 * @returns Undefined when it is there, else why it is not.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureBuilt } from "./_bench_proc.ts";
 * // There already (else it would run scripts/compile.sh --launcher first).
 * assert.equal(await ensureBuilt(Deno.execPath()), undefined);
 * ```
 */
export async function ensureBuilt(path: string): Promise<string | undefined> {
  try {
    await Deno.stat(path);
    return undefined;
  } catch {
    console.error(`bench: ${path} is missing: building the launcher`);
  }
  const build = await runTimed(
    ["bash", `${ROOT}/scripts/compile.sh`, "--launcher"],
    childEnv({ DENO: Deno.execPath() }),
  );
  return build.code === 0
    ? undefined
    : `scripts/compile.sh failed: ${build.stderr}`;
}
