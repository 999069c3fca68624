/**
 * The subcommands of `cvm` itself: `cvm install …` and `cvm service …`.
 * They are not programs of the table (no symlink is made for them).
 *
 * @module
 */

import { resolve } from "node:path";
import { FatalError, writeStdout } from "../program.ts";
import { checkInstall } from "./check.ts";
import { install, type InstallOptions, showInstall } from "./install.ts";
import { findSource } from "./source.ts";
import { uninstall } from "./uninstall.ts";
import { makeService, type ServiceOptions } from "./service.ts";

export { V8_FLAGS } from "./portable.ts";

/** `cvm install --help`. */
export const INSTALL_USAGE =
  `usage: cvm install [--prefix DIR] [--force] [--launcher]
       cvm install --show [--prefix DIR] [--launcher]    what it would do; touches nothing
       cvm install --check [--prefix DIR]                 verify an installation, name each problem
       cvm install --uninstall [--prefix DIR] [--force]   remove what the manifest lists

Installs cvm in DIR/bin (default DIR: /usr/local) with one symlink per
program (cvm-unix, cvm-checkpassword, ...) and lists every file it made,
with its checksum, in DIR/share/cvm/install-manifest. A compiled cvm copies
itself. From a source tree: --launcher installs the portable tree (a copy
of deno, the sources and their npm packages under DIR/lib/cvm, run offline
by the launcher DIR/bin/cvm; move or copy DIR as a whole); without it,
scripts/compile.sh builds the compiled binary first. Never replaces or
removes a file it did not create, or that changed since, unless --force.
`;

/** `cvm service --help`. */
export const SERVICE_USAGE =
  `usage: cvm service NAME MODULE SOCKET [--dir DIR] [--bindir DIR]
                   [--env KEY=VALUE]... [--user USER] [--log-user USER] [--force]

Makes the daemontools service directory DIR/NAME (default DIR: /var/svc.d):
run (envdir ./env, then MODULE on cvm-local:SOCKET), env/CVM_SOCKET and
the module's settings, log/run (multilog t ./main). MODULE is a program
name found in --bindir (default /usr/local/bin) or a path.
`;

/** Splits `--opt VALUE` / `--opt=VALUE` options from the other arguments. */
function parseOptions(
  args: string[],
  valued: readonly string[],
  flags: readonly string[],
  usage: string,
): { values: Map<string, string[]>; flags: Set<string>; rest: string[] } {
  const values = new Map<string, string[]>();
  const set = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const key = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (valued.includes(key)) {
      const value = key === arg ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) {
        throw new FatalError(2, `${key} needs a value\n${usage}`);
      }
      values.set(key, [...values.get(key) ?? [], value]);
    } else if (flags.includes(arg)) {
      set.add(arg);
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new FatalError(2, `unknown option: ${arg}\n${usage}`);
    } else {
      rest.push(arg);
    }
  }
  return { values, flags: set, rest };
}

/**
 * Runs `cvm install …` or `cvm service …`.
 *
 * @param sub "install" or "service".
 * @param args The arguments after it.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSubcommand } from "./mod.ts";
 * // --show prints the plan and changes nothing.
 * assert.equal(await runSubcommand("install", ["--show", "--prefix", "/opt/cvm"]), 0);
 * ```
 */
export async function runSubcommand(
  sub: "install" | "service",
  args: string[],
): Promise<number> {
  const usage = sub === "install" ? INSTALL_USAGE : SERVICE_USAGE;
  if (args.includes("--help") || args.includes("-h")) {
    writeStdout(usage);
    return 0;
  }
  if (sub === "install") {
    const opts = parseOptions(
      args,
      ["--prefix"],
      ["--force", "--show", "--check", "--uninstall", "--launcher"],
      usage,
    );
    if (opts.rest.length > 0) {
      throw new FatalError(2, `unexpected argument: ${opts.rest[0]}\n${usage}`);
    }
    const modes = ["--show", "--check", "--uninstall"].filter((f) =>
      opts.flags.has(f)
    );
    if (modes.length > 1) {
      throw new FatalError(
        2,
        `${modes.join(" and ")} exclude each other\n${usage}`,
      );
    }
    const options: InstallOptions = {
      prefix: resolve(opts.values.get("--prefix")?.at(-1) ?? "/usr/local"),
      force: opts.flags.has("--force"),
      launcher: opts.flags.has("--launcher"),
    };
    if (opts.flags.has("--check")) return await checkInstall(options);
    if (opts.flags.has("--uninstall")) return uninstall(options);
    const source = findSource(options.launcher);
    if (source.kind === "compiled" && options.launcher) {
      throw new FatalError(
        2,
        "--launcher only applies from a source tree (this is a compiled cvm)",
      );
    }
    if (opts.flags.has("--show")) return await showInstall(options, source);
    return await install(options, source);
  }
  const opts = parseOptions(
    args,
    ["--dir", "--bindir", "--env", "--user", "--log-user"],
    ["--force"],
    usage,
  );
  if (opts.rest.length !== 3) {
    throw new FatalError(2, `NAME, MODULE and SOCKET are needed\n${usage}`);
  }
  const env: Record<string, string> = {};
  for (const setting of opts.values.get("--env") ?? []) {
    const eq = setting.indexOf("=");
    if (eq <= 0) throw new FatalError(2, `--env wants KEY=VALUE: ${setting}`);
    env[setting.slice(0, eq)] = setting.slice(eq + 1);
  }
  const [name, module, socket] = opts.rest;
  const options: ServiceOptions = {
    name,
    module,
    socket,
    dir: resolve(opts.values.get("--dir")?.at(-1) ?? "/var/svc.d"),
    bindir: resolve(opts.values.get("--bindir")?.at(-1) ?? "/usr/local/bin"),
    env,
    user: opts.values.get("--user")?.at(-1),
    logUser: opts.values.get("--log-user")?.at(-1),
    force: opts.flags.has("--force"),
  };
  return await makeService(options);
}
