/**
 * Where an installation comes from, and what it consists of before the
 * program links and the manifest are added: a compiled `cvm` copies itself;
 * from a source tree, `--launcher` stages the portable tree and otherwise
 * `scripts/compile.sh` builds the compiled binary first.
 *
 * @module
 */

import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeStderr, writeStdout } from "../program.ts";
import { stageTree, type TreeItem } from "./portable.ts";

/** Where the installation comes from. */
export type Source =
  /** The running executable is a compiled cvm: it copies itself. */
  | { kind: "compiled"; binary: string }
  /** A source tree: `build` makes the compiled `binary` first. */
  | { kind: "build"; binary: string; root: string; build: string[] }
  /** A source tree, as the portable tree with a copy of `deno`. */
  | { kind: "portable"; root: string; deno: string };

/**
 * Finds the source: the running executable when it is a compiled `cvm`;
 * else (run by deno from a source tree) the portable tree with `--launcher`,
 * or `dist/cvm` as `scripts/compile.sh` builds it.
 *
 * @param launcher Install the portable tree (source tree only).
 * @param execPath The running executable (default `Deno.execPath()`).
 * @returns The source.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findSource } from "./source.ts";
 * assert.equal(findSource(true, "/usr/bin/deno").kind, "portable");
 * assert.equal(findSource(false, "/usr/bin/deno").kind, "build");
 * assert.equal(findSource(false, "/usr/local/bin/cvm").kind, "compiled");
 * ```
 */
export function findSource(
  launcher: boolean,
  execPath: string = Deno.execPath(),
): Source {
  if (!/^deno(\.exe)?$/.test(basename(execPath))) {
    return { kind: "compiled", binary: execPath };
  }
  const root = fileURLToPath(new URL("..", import.meta.url)).replace(
    /\/$/,
    "",
  );
  if (launcher) return { kind: "portable", root, deno: execPath };
  const build = ["bash", join(root, "scripts", "compile.sh")];
  return { kind: "build", binary: join(root, "dist", "cvm"), root, build };
}

/**
 * One line saying where the installation comes from (`--show`'s first).
 *
 * @param source The source.
 * @returns The line, without newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSource } from "./source.ts";
 * assert.equal(describeSource({ kind: "compiled", binary: "/usr/local/bin/cvm" }), "source: /usr/local/bin/cvm (this compiled binary, copied)");
 * ```
 */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case "compiled":
      return `source: ${source.binary} (this compiled binary, copied)`;
    case "build":
      return `source: ${source.binary}, built first by: ${
        source.build.join(" ")
      }`;
    case "portable":
      return `source: ${source.root} (portable tree: main.ts's modules, ` +
        `npm packages resolved by deno install, deno from ${source.deno})`;
  }
}

/** What a source gives to install, and how to clean up after. */
export interface Payload {
  /** Files, links and the cache, by path relative to the prefix. */
  items: TreeItem[];
  /** Whether the prefix holds a portable tree (its cache is warmed). */
  portable: boolean;
  /** Removes what preparing it left behind. */
  cleanup(): void;
}

/**
 * Prepares what `source` installs: builds (compiled from a source tree) or
 * stages (the portable tree); a compiled cvm is just itself.
 *
 * @param source The source.
 * @param options `build`: run the build (false for `--show`, which uses the
 *   last build).
 * @returns The payload, or undefined when the build failed (said on stderr).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preparePayload } from "./source.ts";
 * const payload = await preparePayload({ kind: "compiled", binary: "/usr/local/bin/cvm" });
 * assert.deepEqual(payload?.items, [{ kind: "file", path: "bin/cvm", mode: 0o755, from: "/usr/local/bin/cvm" }]);
 * ```
 */
export async function preparePayload(
  source: Source,
  options: { build: boolean } = { build: true },
): Promise<Payload | undefined> {
  const binary = (from: string): Payload => ({
    items: [{ kind: "file", path: "bin/cvm", mode: 0o755, from }],
    portable: false,
    cleanup: () => {},
  });
  switch (source.kind) {
    case "compiled":
      return binary(source.binary);
    case "build":
      if (options.build && !await build(source)) return undefined;
      return binary(source.binary);
    case "portable": {
      const staged = await stageTree(source.root, source.deno);
      return { items: staged.items, portable: true, cleanup: staged.cleanup };
    }
  }
}

async function build(
  source: Extract<Source, { kind: "build" }>,
): Promise<boolean> {
  try {
    Deno.statSync(source.build[1]);
  } catch {
    // An installed portable tree holds main.ts's modules only.
    writeStderr(
      `cvm install: ${source.root} has no scripts/compile.sh to build the ` +
        `compiled binary; install the portable tree: cvm install --launcher\n`,
    );
    return false;
  }
  writeStdout(`cvm install: building: ${source.build.join(" ")}\n`);
  const out = await new Deno.Command(source.build[0], {
    args: source.build.slice(1),
    cwd: source.root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    writeStderr(
      `cvm install: the build failed (exit ${out.code}); where deno compile ` +
        `cannot get its runtime, install the portable tree: ` +
        `cvm install --launcher\n`,
    );
  }
  return out.success;
}
