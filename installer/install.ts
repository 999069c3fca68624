/**
 * `cvm install`: puts the `cvm` binary in `PREFIX/bin` with one symlink per
 * program name, the way the reference's `installer` does; `--show` (its
 * `instshow`) prints the plan and touches nothing; `--check` (its
 * `instcheck`) verifies an installation. Idempotent; a file it did not
 * create is never replaced without `--force`. What it created is listed in
 * `PREFIX/share/cvm/install-manifest`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { PROGRAMS } from "../programs.ts";
import { writeStderr, writeStdout } from "../program.ts";

/** The options of `cvm install`. */
export interface InstallOptions {
  /** The installation prefix (default `/usr/local`). */
  prefix: string;
  /** Replace files the installer did not create. */
  force: boolean;
  /** From a source tree: build with `scripts/compile.sh --launcher`. */
  launcher: boolean;
}

/** Where the binary to install comes from. */
export type Source =
  | { kind: "compiled"; binary: string }
  | { kind: "source"; binary: string; root: string; build: string[] };

/** One thing the installer creates. */
export type Entry =
  | { kind: "dir"; path: string; mode: number }
  | { kind: "binary"; path: string; mode: number }
  | { kind: "link"; path: string; target: string }
  | { kind: "manifest"; path: string; mode: number };

/** What installing an entry would do. */
export type Action = "create" | "keep" | "update" | "replace" | "refuse";

/** The file mode of the binary and of directories. */
export const EXEC_MODE = 0o755;
/** The file mode of the manifest. */
export const MANIFEST_MODE = 0o644;
/** The manifest's path under the prefix. */
export const MANIFEST = "share/cvm/install-manifest";
const MANIFEST_HEADER =
  "# cvm install manifest: what `cvm install` created under this prefix";

/**
 * Finds the binary to install: the running executable when it is a compiled
 * `cvm`, else (run by deno from a source tree) `dist/cvm` as
 * `scripts/compile.sh` builds it.
 *
 * @param launcher Build with `--launcher` (source tree only).
 * @param execPath The running executable (default `Deno.execPath()`).
 * @returns The source.
 * @example
 * ```ts
 * import { findSource } from "./install.ts";
 * findSource(true, "/usr/bin/deno").kind; // "source"
 * findSource(false, "/usr/local/bin/cvm").kind; // "compiled"
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
  const build = ["bash", join(root, "scripts", "compile.sh")];
  if (launcher) build.push("--launcher");
  return { kind: "source", binary: join(root, "dist", "cvm"), root, build };
}

/**
 * The entries an installation under `prefix` consists of.
 *
 * @param prefix The installation prefix.
 * @param names The program names (one symlink each).
 * @returns The entries, directories first.
 * @example
 * ```ts
 * import { planInstall } from "./install.ts";
 * planInstall("/opt/cvm", ["cvm-pwfile"])[2];
 * // { kind: "link", path: "/opt/cvm/bin/cvm-pwfile", target: "cvm" }
 * ```
 */
export function planInstall(prefix: string, names: readonly string[]): Entry[] {
  const bin = join(prefix, "bin");
  return [
    { kind: "dir", path: bin, mode: EXEC_MODE },
    { kind: "binary", path: join(bin, "cvm"), mode: EXEC_MODE },
    ...names.map((name): Entry => ({
      kind: "link",
      path: join(bin, name),
      target: "cvm",
    })),
    { kind: "dir", path: dirname(join(prefix, MANIFEST)), mode: EXEC_MODE },
    { kind: "manifest", path: join(prefix, MANIFEST), mode: MANIFEST_MODE },
  ];
}

/** What the manifest says the installer created: path → content hash or link target. */
export type Manifest = Map<string, string>;

/**
 * Reads the manifest under `prefix`; an absent or foreign file gives an
 * empty one.
 *
 * @param prefix The installation prefix.
 * @returns The entries it records, by absolute path.
 * @example
 * ```ts
 * import { readManifest } from "./install.ts";
 * readManifest("/nonexistent").size; // 0
 * ```
 */
export function readManifest(prefix: string): Manifest {
  const manifest: Manifest = new Map();
  let text: string;
  try {
    text = Deno.readTextFileSync(join(prefix, MANIFEST));
  } catch {
    return manifest;
  }
  if (!text.startsWith(MANIFEST_HEADER)) return manifest;
  for (const line of text.split("\n")) {
    const [kind, path, value] = line.split("\t");
    if ((kind === "file" || kind === "link") && path && value) {
      manifest.set(join(prefix, path), `${kind}:${value}`);
    }
  }
  return manifest;
}

function manifestText(prefix: string, entries: Entry[], hash: string): string {
  const lines = [MANIFEST_HEADER];
  for (const entry of entries) {
    const path = relative(prefix, entry.path);
    if (entry.kind === "binary") lines.push(`file\t${path}\t${hash}`);
    if (entry.kind === "link") lines.push(`link\t${path}\t${entry.target}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The SHA-256 of a file, hex.
 *
 * @param path The file.
 * @returns The digest, or undefined when unreadable.
 * @example
 * ```ts
 * import { fileHash } from "./install.ts";
 * fileHash("/nonexistent"); // undefined
 * ```
 */
export function fileHash(path: string): string | undefined {
  try {
    return createHash("sha256").update(Deno.readFileSync(path)).digest("hex");
  } catch {
    return undefined;
  }
}

function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function readLink(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

/** What `decide` compares the disk with. */
export interface DecideContext {
  /** What the installer created before. */
  manifest: Manifest;
  /** The hash of the binary to install (undefined: not built yet). */
  sourceHash?: string;
  /** The manifest to write (undefined: not known yet). */
  manifestText?: string;
  /** Whether files the installer did not create may be replaced. */
  force: boolean;
}

/**
 * Decides what installing one entry would do, given what is on disk.
 *
 * @param entry The entry.
 * @param context The manifest, the binary's hash, `--force`.
 * @returns The action and, for a refusal or a replacement, why.
 * @example
 * ```ts
 * import { decide } from "./install.ts";
 * decide({ kind: "link", path: "/nonexistent/x", target: "cvm" }, { manifest: new Map(), force: false }).action;
 * // "create"
 * ```
 */
export function decide(
  entry: Entry,
  context: DecideContext,
): { action: Action; why?: string } {
  const { manifest, sourceHash, force } = context;
  const info = lstat(entry.path);
  if (info === undefined) return { action: "create" };
  const foreign = (why: string) =>
    force && !info.isDirectory
      ? { action: "replace" as const, why }
      : { action: "refuse" as const, why };
  switch (entry.kind) {
    case "dir":
      return info.isDirectory
        ? { action: "keep" }
        : { action: "refuse", why: "exists and is not a directory" };
    case "link": {
      if (info.isSymlink && readLink(entry.path) === entry.target) {
        return { action: "keep" };
      }
      if (info.isSymlink && manifest.get(entry.path) === `link:cvm`) {
        return { action: "update" };
      }
      return foreign(
        info.isSymlink
          ? `a symlink to ${
            readLink(entry.path)
          } that cvm install did not create`
          : "a file that cvm install did not create",
      );
    }
    case "binary": {
      if (!info.isFile) return foreign("exists and is not a regular file");
      const hash = fileHash(entry.path);
      if (sourceHash !== undefined && hash === sourceHash) {
        // The same binary: ours whoever copied it; mend a wrong mode.
        const right = ((info.mode ?? 0) & 0o7777) === entry.mode;
        return { action: right ? "keep" : "update" };
      }
      if (hash !== undefined && manifest.get(entry.path) === `file:${hash}`) {
        return { action: "update" };
      }
      return foreign(
        manifest.has(entry.path)
          ? "changed since cvm install created it"
          : "a file that cvm install did not create",
      );
    }
    case "manifest": {
      if (!info.isFile) return foreign("exists and is not a regular file");
      let text = "";
      try {
        text = Deno.readTextFileSync(entry.path);
      } catch { /* unreadable: foreign */ }
      if (!text.startsWith(MANIFEST_HEADER)) {
        return foreign("a file that cvm install did not create");
      }
      return { action: text === context.manifestText ? "keep" : "update" };
    }
  }
}

const mode = (m: number) => `0${m.toString(8)}`;

/** The entry's path, with its link target when it is a link. */
function named(entry: Entry): string {
  return entry.kind === "link"
    ? `${entry.path} -> ${entry.target}`
    : entry.path;
}

/** One line of `--show`: kind, mode, path. */
function describe(entry: Entry): string {
  const kind = entry.kind === "dir"
    ? "dir "
    : entry.kind === "link"
    ? "link"
    : "file";
  const perm = entry.kind === "link" ? "0777" : mode(entry.mode);
  return `${kind}  ${perm}  ${named(entry)}`;
}

function sourceLine(source: Source): string {
  return source.kind === "compiled"
    ? `source: ${source.binary} (this compiled binary, copied)`
    : `source: ${source.binary}, built first by: ${source.build.join(" ")}`;
}

/**
 * `cvm install --show`: prints every entry with its mode and what
 * installing would do (create, keep, update, replace, refuse), changing
 * nothing.
 *
 * @param options The prefix, force and launcher options.
 * @param source Where the binary comes from.
 * @returns 0.
 * @example
 * ```ts
 * import { findSource, showInstall } from "./install.ts";
 * showInstall({ prefix: "/opt/cvm", force: false, launcher: true }, findSource(true));
 * ```
 */
export function showInstall(options: InstallOptions, source: Source): number {
  const { prefix, force } = options;
  const manifest = readManifest(prefix);
  const plan = planInstall(prefix, PROGRAMS.map((p) => p.name));
  // From a source tree this is the last build's: what a rebuild should give.
  const sourceHash = fileHash(source.binary);
  const context: DecideContext = {
    manifest,
    sourceHash,
    manifestText: sourceHash && manifestText(prefix, plan, sourceHash),
    force,
  };
  const lines = [sourceLine(source)];
  const width = Math.max(...plan.map((e) => describe(e).length));
  for (const entry of plan) {
    const { action, why } = decide(entry, context);
    const note = why === undefined ? "" : ` (${why})`;
    lines.push(`${describe(entry).padEnd(width)}  ${action}${note}`);
  }
  for (const stale of staleLinks(manifest, plan)) {
    lines.push(`${`link  0777  ${stale} -> cvm`.padEnd(width)}  remove`);
  }
  writeStdout(lines.join("\n") + "\n");
  return 0;
}

/** Links the manifest records that are no longer programs, still pointing at cvm. */
function staleLinks(manifest: Manifest, plan: Entry[]): string[] {
  const planned = new Set(plan.map((e) => e.path));
  return [...manifest].filter(([path, value]) =>
    value === "link:cvm" && !planned.has(path) &&
    lstat(path)?.isSymlink === true && readLink(path) === "cvm"
  ).map(([path]) => path);
}

async function build(source: Source): Promise<boolean> {
  if (source.kind !== "source") return true;
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
      `cvm install: the build failed (exit ${out.code})` +
        (source.build.includes("--launcher")
          ? "\n"
          : "; without network for deno compile, try: cvm install --launcher\n"),
    );
  }
  return out.success;
}

function replaceAtomically(path: string, write: (tmp: string) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.cvm-install.${Deno.pid}`);
  try {
    write(tmp);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not created */ }
    throw e;
  }
}

/**
 * `cvm install`: builds (from a source tree), then creates what `--show`
 * lists, in order, changing only what differs. Refuses, before touching
 * anything, when a file it did not create is in the way (unless `force`).
 *
 * @param options The prefix, force and launcher options.
 * @param source Where the binary comes from.
 * @returns The exit status: 0 done, 1 refused or failed.
 * @example
 * ```ts
 * import { findSource, install } from "./install.ts";
 * await install({ prefix: "/tmp/cvm-prefix", force: false, launcher: true }, findSource(true));
 * ```
 */
export async function install(
  options: InstallOptions,
  source: Source,
): Promise<number> {
  const { prefix } = options;
  const manifest = readManifest(prefix);
  const plan = planInstall(prefix, PROGRAMS.map((p) => p.name));
  // Refuse before building or touching anything.
  const refused = plan
    .map((e) => ({ e, d: decide(e, { manifest, force: options.force }) }))
    .filter(({ d }) => d.action === "refuse");
  if (refused.length > 0) {
    for (const { e, d } of refused) {
      writeStderr(`cvm install: refusing to replace ${e.path}: ${d.why}\n`);
    }
    if (!options.force) {
      writeStderr("cvm install: nothing changed; use --force to replace\n");
    }
    return 1;
  }
  if (!await build(source)) return 1;
  const sourceHash = fileHash(source.binary);
  if (sourceHash === undefined) {
    writeStderr(`cvm install: cannot read ${source.binary}\n`);
    return 1;
  }
  const context: DecideContext = {
    manifest,
    sourceHash,
    manifestText: manifestText(prefix, plan, sourceHash),
    force: options.force,
  };
  const counts: Record<Action, number> = {
    create: 0,
    keep: 0,
    update: 0,
    replace: 0,
    refuse: 0,
  };
  for (const entry of plan) {
    const { action } = decide(entry, context);
    counts[action]++;
    if (action === "keep") continue;
    if (action === "refuse") {
      writeStderr(`cvm install: refusing to replace ${entry.path}\n`);
      return 1;
    }
    switch (entry.kind) {
      case "dir":
        Deno.mkdirSync(entry.path, { recursive: true, mode: entry.mode });
        Deno.chmodSync(entry.path, entry.mode);
        break;
      case "binary":
        replaceAtomically(entry.path, (tmp) => {
          Deno.copyFileSync(source.binary, tmp);
          Deno.chmodSync(tmp, entry.mode);
        });
        break;
      case "link":
        replaceAtomically(entry.path, (tmp) => Deno.symlinkSync("cvm", tmp));
        break;
      case "manifest":
        replaceAtomically(entry.path, (tmp) => {
          Deno.writeTextFileSync(tmp, context.manifestText!);
          Deno.chmodSync(tmp, entry.mode);
        });
        break;
    }
    writeStdout(`cvm install: ${action}d ${named(entry)}\n`);
  }
  for (const stale of staleLinks(manifest, plan)) {
    Deno.removeSync(stale);
    writeStdout(`cvm install: removed ${stale} (no longer a program)\n`);
  }
  writeStdout(
    `cvm install: ${
      join(prefix, "bin", "cvm")
    } and ${PROGRAMS.length} links: ` +
      `${counts.create} created, ${counts.update + counts.replace} updated, ` +
      `${counts.keep} unchanged\n`,
  );
  return 0;
}

/**
 * `cvm install --check`: verifies the installation under the prefix (files
 * present, the binary a regular file of mode 0755, every program a symlink
 * to `cvm`, the binary listing the same programs, and a client and a module
 * dispatching through their links) and names each problem.
 *
 * @param options The prefix.
 * @returns 0 when all is well, 1 with each problem on stderr.
 * @example
 * ```ts
 * import { checkInstall } from "./install.ts";
 * await checkInstall({ prefix: "/usr/local", force: false, launcher: false });
 * ```
 */
export async function checkInstall(options: InstallOptions): Promise<number> {
  const bin = join(options.prefix, "bin");
  const binary = join(bin, "cvm");
  const problems: string[] = [];
  const names = PROGRAMS.map((p) => p.name);
  const info = lstat(binary);
  if (info === undefined) problems.push(`missing: ${binary}`);
  else if (!info.isFile) problems.push(`not a regular file: ${binary}`);
  else if (((info.mode ?? 0) & 0o7777) !== EXEC_MODE) {
    problems.push(
      `wrong mode ${mode((info.mode ?? 0) & 0o7777)} (want ${
        mode(EXEC_MODE)
      }): ${binary}`,
    );
  }
  for (const name of names) {
    const path = join(bin, name);
    const link = lstat(path);
    if (link === undefined) problems.push(`missing: ${path}`);
    else if (!link.isSymlink) problems.push(`not a symlink to cvm: ${path}`);
    else if (readLink(path) !== "cvm") {
      problems.push(`points to ${readLink(path)}, not cvm: ${path}`);
    }
  }
  if (info?.isFile) {
    const listed = await runQuiet(binary, ["--list"], {});
    if (listed.code !== 0) {
      problems.push(`${binary} --list failed: ${failure(listed)}`);
    } else {
      const got = listed.stdout.split("\n").filter((l) => l !== "");
      const missing = names.filter((n) => !got.includes(n));
      const extra = got.filter((n) => !names.includes(n));
      if (missing.length > 0 || extra.length > 0) {
        problems.push(
          `${binary} lists other programs than this cvm` +
            (missing.length ? `; lacks: ${missing.join(" ")}` : "") +
            (extra.length ? `; has more: ${extra.join(" ")}` : ""),
        );
      }
    }
    const client = join(bin, "cvm-testclient");
    const module = join(bin, "cvm-pwfile");
    if (lstat(client) && lstat(module)) {
      // An account no module has: a client and a module answering through
      // their links give "Credentials rejected" (100).
      const probe = await runQuiet(
        client,
        [`cvm-command:${module}`, "cvm-install-check", "", "x"],
        { CVM_PWFILE_PATH: "/dev/null" },
      );
      if (probe.code !== 100) {
        problems.push(
          `${client} with ${module} did not answer "Credentials rejected": ` +
            failure(probe),
        );
      }
    }
  }
  if (problems.length > 0) {
    for (const p of problems) writeStderr(`cvm install --check: ${p}\n`);
    return 1;
  }
  writeStdout(
    `cvm install --check: ok: ${binary} and ${names.length} program links\n`,
  );
  return 0;
}

/** What went wrong with a run, in words. */
function failure(run: { code: number; stderr: string }): string {
  const said = run.stderr.trim().split("\n")[0];
  if (run.code === -1) return `could not run it (${said})`;
  return `exit ${run.code}${said ? ` (${said})` : ""}`;
}

async function runQuiet(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { code: -1, stdout: "", stderr: message };
  }
}
