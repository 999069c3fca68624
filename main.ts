/**
 * The one entry point: dispatches on the name it was invoked as (busybox
 * style: `cvm-pwfile` is a symlink to `cvm`) or on its first argument
 * (`cvm pwfile …`, `cvm cvm-pwfile …`).
 *
 * @module
 */

import { reportFatal, writeStderr, writeStdout } from "./program.ts";
import { findProgram, PROGRAMS } from "./programs.ts";
import { restoreCallerEnvironment } from "./launcher_env.ts";
import { exactArguments, exactEnvironment } from "./caller_bytes.ts";

/** The last part of a path (no node:path: start-up pays for every node: module). */
function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * argv[0] as the caller gave it (`exec -a`, a symlink's name), read from
 * /proc/self/cmdline; node:process's `argv0` where /proc cannot be read.
 */
async function invokedName(): Promise<string> {
  try {
    const cmdline = Deno.readFileSync("/proc/self/cmdline");
    const end = cmdline.indexOf(0);
    return new TextDecoder().decode(
      end < 0 ? cmdline : cmdline.subarray(0, end),
    );
  } catch {
    return (await import("node:process")).default.argv0;
  }
}

/** The `cvm --help` text: every program with one line each. */
function helpText(): string {
  const width = Math.max(...PROGRAMS.map((p) => p.name.length));
  const lines = PROGRAMS.map((p) => `  ${p.name.padEnd(width)}  ${p.summary}`);
  return [
    "usage: cvm PROGRAM [ARGS...]   (or run a symlink named after PROGRAM)",
    "",
    "programs:",
    ...lines,
    "",
    "subcommands of cvm itself:",
    "  cvm install [--prefix DIR] [--force] [--launcher] [--show | --check | --uninstall]",
    "  cvm service NAME MODULE SOCKET [--dir DIR]   (a daemontools service)",
    "  cvm pw [-s SCHEME] | -t HASH | -l   (a {SCHEME} password hash, as doveadm pw)",
    "  cvm cdbpasswd [-f FILE] [-s SCHEME] import|add|passwd|del|list …   (cvm-cdb's accounts)",
    "  cvm stats HOST:PORT   (a module server's metrics, from $CVM_METRICS)",
    "",
  ].join("\n");
}

/** The program name and arguments from argv[0] and the rest. */
function resolveInvocation(
  argv0: string,
  args: string[],
): { name: string; args: string[] } | undefined {
  const invoked = basename(argv0);
  if (findProgram(invoked)) return { name: invoked, args };
  if (args.length === 0) return undefined;
  const [first, ...rest] = args;
  for (const candidate of [first, `cvm-${first}`]) {
    if (findProgram(candidate)) return { name: candidate, args: rest };
  }
  return undefined;
}

async function main(): Promise<number> {
  // The portable launcher's variables are for its deno, not the programs.
  restoreCallerEnvironment(
    decodeURIComponent(new URL("./cache", import.meta.url).pathname),
  );
  const args = Deno.args;
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    writeStdout(helpText());
    return 0;
  }
  if (args[0] === "--list") {
    // One name per line: what scripts/compile.sh makes symlinks for.
    writeStdout(PROGRAMS.map((p) => p.name).join("\n") + "\n");
    return 0;
  }
  // `cvm install …`, `cvm service …`, `cvm stats …`, `cvm pw …` and
  // `cvm cdbpasswd …` belong to `cvm` itself (no symlinks).
  const argv0 = await invokedName();
  const ownName = !findProgram(basename(argv0));
  if (args[0] === "stats" && ownName) {
    try {
      const { statsMain } = await import("./clients/mod.ts");
      return await statsMain(args.slice(1));
    } catch (e) {
      return reportFatal("cvm stats", e);
    }
  }
  const sub = args[0] === "install" || args[0] === "service" ? args[0] : "";
  if (sub !== "" && ownName) {
    try {
      const { runSubcommand } = await import("./installer/mod.ts");
      return await runSubcommand(sub, args.slice(1));
    } catch (e) {
      return reportFatal(`cvm ${sub}`, e);
    }
  }
  if (args[0] === "pw" && ownName) {
    try {
      const { pwMain } = await import("./admin/mod.ts");
      return await pwMain(args.slice(1));
    } catch (e) {
      return reportFatal("cvm pw", e);
    }
  }
  if (args[0] === "cdbpasswd" && ownName) {
    try {
      const { cdbpasswdMain } = await import("./admin/mod.ts");
      return await cdbpasswdMain(args.slice(1), Deno.env.toObject());
    } catch (e) {
      return reportFatal("cvm cdbpasswd", e);
    }
  }
  // Byte for byte as the caller gave them (a Latin-1 account name, a
  // variable the next program gets), as the reference's programs see them.
  const resolved = resolveInvocation(argv0, exactArguments(args));
  if (resolved === undefined) {
    writeStderr(
      args.length === 0
        ? helpText()
        : `cvm: unknown program: ${args[0]}\n${helpText()}`,
    );
    return 1;
  }
  const program = findProgram(resolved.name)!;
  try {
    return await program.main({
      name: resolved.name,
      args: resolved.args,
      env: exactEnvironment(Deno.env.toObject()),
    });
  } catch (e) {
    return reportFatal(resolved.name, e);
  }
}

if (import.meta.main) Deno.exit(await main());
