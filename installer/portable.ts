/**
 * The portable tree `cvm install --launcher` installs, for hosts where
 * `deno compile` cannot get its runtime: everything under one prefix, found
 * from the launcher's own path, so the prefix can be moved or copied whole
 * (`cp -a`, tar) onto a mail host with nothing else.
 *
 * ```text
 * PREFIX/bin/cvm            the launcher (bash): finds PREFIX from its own path
 * PREFIX/bin/cvm-…          one symlink per program
 * PREFIX/lib/cvm/deno       a copy of the deno that ran the install
 * PREFIX/lib/cvm/…          main.ts and every module it imports, deno.json, deno.lock
 * PREFIX/lib/cvm/node_modules/   the npm packages, resolved at install time
 * PREFIX/lib/cvm/cache/     DENO_DIR: deno's own cache (transpiled modules)
 * ```
 *
 * The sources are the module graph of `main.ts` as `deno info` sees it
 * (dynamic imports included), not a fixed list, so files can move.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { walk } from "./_fs.ts";
import { LAUNCHER_ENV } from "../launcher_env.ts";

/** The tree's library directory, relative to the prefix. */
export const TREE_LIB = "lib/cvm";
/** The tree's DENO_DIR, relative to the prefix. */
export const TREE_CACHE = `${TREE_LIB}/cache`;
/**
 * V8's flags for every program: a young generation of at most 1 MB a
 * semi-space (V8's default grows to 16 MB). A server's requests make only
 * short-lived garbage, so a small nursery costs no measurable speed and
 * keeps a few MB of memory off a long-running server (measured with
 * `deno task bench`). scripts/compile.sh passes the same to deno.
 */
export const V8_FLAGS = "--max-semi-space-size=1";

/** The flags the launcher runs deno with (and the cache is warmed with). */
const OFFLINE_FLAGS = [
  "--no-remote",
  "--node-modules-dir=manual",
  "--frozen-lockfile",
];

/**
 * The launcher, `PREFIX/bin/cvm`. It holds no path: it resolves its own
 * (through the program symlinks, and through links to them from elsewhere)
 * and runs `../lib/cvm/main.ts` under `../lib/cvm/deno`, offline, with
 * DENO_DIR in the tree, no update check, and no `node` shim put first on
 * PATH (deno's, when no node is on PATH); `exec -a` keeps argv[0] for the
 * dispatch by name. main.ts puts the caller's values of the three variables
 * back before any program runs, so a client's next program gets the
 * caller's environment.
 */
export const PORTABLE_LAUNCHER = `#!/bin/bash
# cvm launcher of a portable tree (cvm install --launcher): runs
# PREFIX/lib/cvm/main.ts under PREFIX/lib/cvm/deno, PREFIX found from this
# script's own path, offline (--cached-only, node_modules and deno.lock as
# installed, DENO_DIR in the tree). exec -a keeps argv[0] so the program
# symlinks (cvm-pwfile, cvm-testclient, ...) dispatch by name.
self=$(PATH=\${PATH:+\$PATH:}/usr/bin:/bin readlink -f -- "$0") || exit 111
lib=\${self%/*/*}/${TREE_LIB}
# The caller's values, which main.ts puts back for the programs it runs.
${
  LAUNCHER_ENV.map((v) =>
    `[ -n "\${${v}+set}" ] && export CVM_CALLER_${v}="\$${v}"`
  ).join("\n")
}
export DENO_DIR="$lib/cache" DENO_NO_UPDATE_CHECK=1 DENO_DISABLE_NODE_SHIM=1
exec -a "$0" "$lib/deno" run --allow-all --quiet --no-prompt --cached-only \\
  ${OFFLINE_FLAGS.join(" ")} --v8-flags=${V8_FLAGS} \\
  --config "$lib/deno.json" "$lib/main.ts" "$@"
`;

/** One thing of the tree, by path relative to the prefix. */
export type TreeItem =
  | { kind: "file"; path: string; mode: number; from: string }
  | { kind: "link"; path: string; target: string }
  | { kind: "cache"; path: string; mode: number };

/** A staged tree: its items, and the temporary directory to remove after. */
export interface StagedTree {
  /** Everything to install but the program links and the manifest. */
  items: TreeItem[];
  /** Removes the staging directory. */
  cleanup(): void;
}

/** Runs deno, capturing its output (no colours). */
async function runDeno(
  deno: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(deno, {
      args,
      cwd,
      env: {
        NO_COLOR: "1",
        DENO_NO_UPDATE_CHECK: "1",
        DENO_DISABLE_NODE_SHIM: "1",
        ...env,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    const said = e instanceof Error ? e.message : String(e);
    return { ok: false, stdout: "", stderr: said };
  }
  const dec = new TextDecoder();
  return {
    ok: out.success,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr).replace(/\nStack backtrace:[^]*$/, ""),
  };
}

/**
 * The source files `main.ts` loads, statically or by `import()`, as
 * `deno info` finds them: paths relative to `root`.
 *
 * @param root The directory of main.ts and deno.json.
 * @param deno The deno to ask.
 * @returns The relative paths, sorted.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileURLToPath } from "node:url";
 * import { sourceFiles } from "./portable.ts";
 * const root = fileURLToPath(new URL("..", import.meta.url));
 * assert.equal((await sourceFiles(root, Deno.execPath())).includes("programs.ts"), true);
 * ```
 */
export async function sourceFiles(
  root: string,
  deno: string,
): Promise<string[]> {
  // Local modules only: no npm, no lockfile, no node_modules made in root.
  const info = await runDeno(deno, [
    "info",
    "--json",
    "--no-npm",
    "--no-remote",
    "--no-lock",
    "--node-modules-dir=none",
    "--config",
    join(root, "deno.json"),
    join(root, "main.ts"),
  ], root);
  if (!info.ok) throw new Error(`deno info main.ts failed: ${info.stderr}`);
  const graph = JSON.parse(info.stdout) as {
    modules: { specifier: string; error?: string }[];
  };
  const files: string[] = [];
  for (const m of graph.modules) {
    if (!m.specifier.startsWith("file:")) continue;
    if (m.error !== undefined) {
      throw new Error(`${m.specifier}: ${m.error}`);
    }
    const path = relative(root, fileURLToPath(m.specifier));
    if (path.startsWith("..") || isAbsolute(path)) {
      throw new Error(`main.ts loads a file outside ${root}: ${m.specifier}`);
    }
    files.push(path);
  }
  return files.sort();
}

/**
 * Stages the tree from the source tree at `root`: copies main.ts's modules,
 * deno.json and deno.lock into a temporary directory and resolves the npm
 * packages there with `deno install` (from deno's cache, or the registry),
 * exactly as the lockfile says. Nothing is written under `root`.
 *
 * @param root The source tree (the directory of main.ts).
 * @param deno The deno binary to copy and to resolve with.
 * @returns The items to install and a cleanup.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileURLToPath } from "node:url";
 * import { stageTree } from "./portable.ts";
 * const staged = await stageTree(fileURLToPath(new URL("..", import.meta.url)), Deno.execPath());
 * assert.equal(staged.items.some((i) => i.path === "lib/cvm/main.ts"), true);
 * staged.cleanup();
 * ```
 */
export async function stageTree(
  root: string,
  deno: string,
): Promise<StagedTree> {
  const stage = Deno.makeTempDirSync({ prefix: "cvm-install-" });
  const cleanup = () => Deno.removeSync(stage, { recursive: true });
  try {
    const lib = join(stage, "lib");
    for (const path of [...await sourceFiles(root, deno), "deno.lock"]) {
      Deno.mkdirSync(dirname(join(lib, path)), { recursive: true });
      Deno.copyFileSync(join(root, path), join(lib, path));
    }
    Deno.copyFileSync(join(root, "deno.json"), join(lib, "deno.json"));
    const resolved = await runDeno(deno, [
      "install",
      "--quiet",
      "--entrypoint",
      "main.ts",
      "--frozen-lockfile",
      "--node-modules-dir=auto",
      "--config",
      "deno.json",
    ], lib);
    if (!resolved.ok) {
      throw new Error(
        `deno install (the npm packages) failed: ${resolved.stderr.trim()}`,
      );
    }
    Deno.writeTextFileSync(join(stage, "cvm"), PORTABLE_LAUNCHER);
    const items: TreeItem[] = [
      { kind: "file", path: "bin/cvm", mode: 0o755, from: join(stage, "cvm") },
      { kind: "file", path: `${TREE_LIB}/deno`, mode: 0o755, from: deno },
    ];
    for (const { path, info } of walk(lib)) {
      const at = `${TREE_LIB}/${path}`;
      if (info.isSymlink) {
        const target = Deno.readLinkSync(join(lib, path));
        const to = resolve(dirname(join(lib, path)), target);
        if (isAbsolute(target) || relative(lib, to).startsWith("..")) {
          throw new Error(`${path} points out of the tree: ${target}`);
        }
        items.push({ kind: "link", path: at, target });
      } else if (info.isFile) {
        const mode = ((info.mode ?? 0) & 0o111) !== 0 ? 0o755 : 0o644;
        items.push({ kind: "file", path: at, mode, from: join(lib, path) });
      } else if (!info.isDirectory) {
        throw new Error(`${path} is not a file, link or directory`);
      }
    }
    items.push({ kind: "cache", path: TREE_CACHE, mode: 0o755 });
    return { items, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/**
 * Fills the installed tree's cache (deno's transpiled modules) by loading
 * main.ts's graph as the launcher will, so the first start of a program
 * run as an unprivileged user (who cannot write the cache) is not slow. It
 * also proves the tree loads offline.
 *
 * @param prefix The installation prefix.
 * @returns Undefined when done, else what went wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmCache } from "./portable.ts";
 * assert.match(await warmCache("/nonexistent") ?? "", /^Failed to spawn '\/nonexistent\/lib\/cvm\/deno'/);
 * ```
 */
export async function warmCache(prefix: string): Promise<string | undefined> {
  const lib = join(prefix, TREE_LIB);
  const warmed = await runDeno(
    join(lib, "deno"),
    [
      "cache",
      "--quiet",
      ...OFFLINE_FLAGS,
      "--config",
      join(lib, "deno.json"),
      join(lib, "main.ts"),
    ],
    lib,
    { DENO_DIR: join(prefix, TREE_CACHE) },
  );
  return warmed.ok ? undefined : warmed.stderr.trim();
}
