/**
 * `cvm install`: puts `cvm` in `PREFIX/bin` with one symlink per program
 * name, the way the reference's `installer` does (with `--launcher`, the
 * portable tree under `PREFIX/lib/cvm` too); `--show` (its `instshow`)
 * prints the plan and touches nothing. Idempotent; a file it did not create
 * is never replaced without `--force`. What it created is listed, with
 * checksums, in `PREFIX/share/cvm/install-manifest`; `--check` and
 * `--uninstall` (check.ts, uninstall.ts) work from that list.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { PROGRAMS } from "../programs.ts";
import { writeStderr, writeStdout } from "../program.ts";
import {
  fileHash,
  lstat,
  permissions,
  readLink,
  replaceAtomically,
} from "./_fs.ts";
import {
  formatManifest,
  MANIFEST,
  type Manifest,
  MANIFEST_HEADER,
  type ManifestEntry,
  octal,
  readManifest,
} from "./manifest.ts";
import { type TreeItem, warmCache } from "./portable.ts";
import {
  describeSource,
  type Payload,
  preparePayload,
  type Source,
} from "./source.ts";

/** The options of `cvm install`. */
export interface InstallOptions {
  /** The installation prefix (default `/usr/local`). */
  prefix: string;
  /** Replace (or remove) files the installer did not create, or that changed. */
  force: boolean;
  /** From a source tree: install the portable tree. */
  launcher: boolean;
}

/** One thing an installation consists of, by path relative to the prefix. */
export type Entry =
  | { kind: "dir"; path: string; mode: number }
  | { kind: "cache"; path: string; mode: number }
  | { kind: "file"; path: string; mode: number; from: string; hash?: string }
  | { kind: "link"; path: string; target: string }
  | { kind: "manifest"; path: string; mode: number };

/** What installing an entry would do. */
export type Action = "create" | "keep" | "update" | "replace" | "refuse";

/** What an upgrade or an uninstall does with something the manifest lists. */
export type Removal = "remove" | "gone" | "prune" | "refuse";

/** The mode of directories and executables. */
export const EXEC_MODE = 0o755;
/** The mode of the manifest. */
export const MANIFEST_MODE = 0o644;

/**
 * The entries an installation consists of: the payload, one symlink to
 * `cvm` per program name, the manifest, and every directory they need, in
 * the order they are made (directories first, parents before children).
 *
 * @param items The payload's files, links and cache.
 * @param names The program names.
 * @returns The entries.
 * @example
 * ```ts
 * import { planInstall } from "./install.ts";
 * import assert from "node:assert/strict";
 * const plan = planInstall([{ kind: "file", path: "bin/cvm", mode: 0o755, from: "/tmp/cvm" }], ["cvm-pwfile"]);
 * assert.deepEqual(plan.map((e) => `${e.kind} ${e.path}`), ["dir bin", "dir share", "dir share/cvm",
 *   "file bin/cvm", "link bin/cvm-pwfile", "manifest share/cvm/install-manifest"]);
 * ```
 */
export function planInstall(
  items: readonly TreeItem[],
  names: readonly string[],
): Entry[] {
  const things: Entry[] = [
    ...items.map((item): Entry =>
      item.kind === "file" ? { ...item, hash: fileHash(item.from) } : item
    ),
    ...names.map((name): Entry => ({
      kind: "link",
      path: `bin/${name}`,
      target: "cvm",
    })),
  ];
  const isDir = (e: Entry) => e.kind === "dir" || e.kind === "cache";
  const own = things.filter(isDir);
  const parents = new Set<string>();
  for (const { path } of [...things, { path: MANIFEST }]) {
    for (let d = dirname(path); d !== "."; d = dirname(d)) parents.add(d);
  }
  for (const { path } of own) parents.delete(path);
  const byPath = (a: Entry, b: Entry) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  return [
    ...[
      ...[...parents].map((path): Entry => ({
        kind: "dir",
        path,
        mode: EXEC_MODE,
      })),
      ...own,
    ].sort(byPath),
    ...things.filter((e) => !isDir(e)).sort(byPath),
    { kind: "manifest", path: MANIFEST, mode: MANIFEST_MODE },
  ];
}

/** What `decide` compares the disk with. */
export interface DecideContext {
  /** The installation prefix. */
  prefix: string;
  /** What the installer created before. */
  manifest: Manifest;
  /** The manifest to write (undefined: not known yet). */
  manifestText?: string;
  /** Whether files the installer did not create may be replaced. */
  force: boolean;
  /** Paths the installer removes first (listed before, no longer wanted). */
  removing?: ReadonlySet<string>;
}

/**
 * Decides what installing one entry would do, given what is on disk and
 * what the manifest says the installer made before.
 *
 * @param entry The entry.
 * @param context The prefix, the manifest, `--force`.
 * @returns The action and, for a refusal or a replacement, why.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decide } from "./install.ts";
 * assert.equal(decide({ kind: "link", path: "bin/x", target: "cvm" }, { prefix: "/nonexistent", manifest: new Map(), force: false }).action, "create");
 * ```
 */
export function decide(
  entry: Entry,
  context: DecideContext,
): { action: Action; why?: string } {
  const { manifest, force } = context;
  const full = join(context.prefix, entry.path);
  const info = context.removing?.has(entry.path) ? undefined : lstat(full);
  if (info === undefined) return { action: "create" };
  const old = manifest.get(entry.path);
  const foreign = (why: string) =>
    force && !info.isDirectory
      ? { action: "replace" as const, why }
      : { action: "refuse" as const, why };
  switch (entry.kind) {
    case "dir":
    case "cache":
      if (!info.isDirectory) {
        return { action: "refuse", why: "exists and is not a directory" };
      }
      // A directory that was there before is not ours: its mode stays.
      return old?.kind === entry.kind && permissions(info) !== entry.mode
        ? { action: "update" }
        : { action: "keep" };
    case "link": {
      const target = info.isSymlink ? readLink(full) : undefined;
      if (target === entry.target) return { action: "keep" };
      if (
        target !== undefined && old?.kind === "link" && old.target === target
      ) {
        return { action: "update" };
      }
      return foreign(
        target !== undefined
          ? `a symlink to ${target} that cvm install did not create`
          : "a file that cvm install did not create",
      );
    }
    case "file": {
      if (!info.isFile) return foreign("exists and is not a regular file");
      const hash = fileHash(full);
      if (entry.hash !== undefined && hash === entry.hash) {
        // The same content: ours whoever copied it; mend a wrong mode.
        return permissions(info) === entry.mode
          ? { action: "keep" }
          : { action: "update" };
      }
      if (old?.kind === "file" && hash === old.hash) {
        return { action: "update" };
      }
      return foreign(
        old !== undefined
          ? "changed since cvm install created it"
          : "a file that cvm install did not create",
      );
    }
    case "manifest": {
      if (!info.isFile) return foreign("exists and is not a regular file");
      let text = "";
      try {
        text = Deno.readTextFileSync(full);
      } catch { /* unreadable: foreign */ }
      if (!text.startsWith(MANIFEST_HEADER)) {
        return foreign("a file that cvm install did not create");
      }
      return { action: text === context.manifestText ? "keep" : "update" };
    }
  }
}

/**
 * Decides what happens to something the manifest lists that is no longer
 * wanted (an upgrade that moved a file, or an uninstall): `remove` it, it
 * is already `gone`, `prune` a directory (removed once empty), or `refuse`
 * because it changed since the install (unless `force`).
 *
 * @param entry The manifest's entry.
 * @param prefix The installation prefix.
 * @param force Remove changed files too.
 * @returns The removal and, for a refusal, why.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideRemoval } from "./install.ts";
 * assert.equal(decideRemoval({ kind: "link", path: "bin/x", target: "cvm" }, "/nonexistent", false).action, "gone");
 * ```
 */
export function decideRemoval(
  entry: ManifestEntry,
  prefix: string,
  force: boolean,
): { action: Removal; why?: string } {
  const full = join(prefix, entry.path);
  const info = lstat(full);
  if (info === undefined) return { action: "gone" };
  switch (entry.kind) {
    case "dir":
    case "cache":
      // A symlink or a file where the directory was is not ours.
      if (!info.isDirectory) return { action: "gone" };
      return { action: entry.kind === "dir" ? "prune" : "remove" };
    case "file":
      if (info.isFile && fileHash(full) === entry.hash) {
        return { action: "remove" };
      }
      break;
    case "link":
      if (info.isSymlink && readLink(full) === entry.target) {
        return { action: "remove" };
      }
      break;
  }
  const why = info.isDirectory
    ? "now a directory"
    : "changed since cvm install created it";
  return force && !info.isDirectory
    ? { action: "remove", why }
    : { action: "refuse", why };
}

/** One line of `--show`: kind, mode, path (absolute), and link target. */
function describe(prefix: string, entry: Entry | ManifestEntry): string {
  const kind = entry.kind === "link"
    ? "link"
    : entry.kind === "file" || entry.kind === "manifest"
    ? "file"
    : entry.kind === "cache"
    ? "cache"
    : "dir ";
  const perm = entry.kind === "link" ? "0777" : octal(entry.mode);
  const target = entry.kind === "link" ? ` -> ${entry.target}` : "";
  return `${kind.padEnd(5)} ${perm}  ${join(prefix, entry.path)}${target}`;
}

/** The plan with every decision, and what the new manifest records. */
interface Decisions {
  plan: { entry: Entry; action: Action; why?: string }[];
  stale: { entry: ManifestEntry; action: Removal; why?: string }[];
  /** What the plan makes that is the installer's (not the manifest itself). */
  recorded: ManifestEntry[];
  context: DecideContext;
}

function decideAll(
  options: InstallOptions,
  manifest: Manifest,
  payload: Payload,
): Decisions {
  const entries = planInstall(payload.items, PROGRAMS.map((p) => p.name));
  const planned = new Set(entries.map((e) => e.path));
  const stale = [...manifest.values()]
    .filter((e) => !planned.has(e.path))
    .map((entry) => ({
      entry,
      ...decideRemoval(entry, options.prefix, options.force),
    }));
  const removing = new Set(
    stale.filter((s) => s.action === "remove").map((s) => s.entry.path),
  );
  const context: DecideContext = { ...options, manifest, removing };
  const plan = entries.map((entry) => ({ entry, ...decide(entry, context) }));
  const recorded: ManifestEntry[] = [];
  for (const { entry, action } of plan) {
    if (entry.kind === "dir" || entry.kind === "cache") {
      // Directories it made; one that was there before stays someone else's.
      if (
        action === "create" || manifest.get(entry.path)?.kind === entry.kind
      ) {
        recorded.push({ kind: entry.kind, path: entry.path, mode: entry.mode });
      }
    } else if (entry.kind === "file") {
      recorded.push({
        kind: "file",
        path: entry.path,
        mode: entry.mode,
        hash: entry.hash ?? "",
      });
    } else if (entry.kind === "link") {
      recorded.push(entry);
    }
  }
  // The manifest's own line, decided on the text it would have now.
  const text = manifestText(recorded, [], options.prefix);
  const decided = plan.map((p) =>
    p.entry.kind === "manifest"
      ? {
        entry: p.entry,
        ...decide(p.entry, { ...context, manifestText: text }),
      }
      : p
  );
  return { plan: decided, stale, recorded, context };
}

/**
 * The manifest's text: what the plan made, and the directories no longer
 * wanted that are still there (not empty), to go on a later run.
 */
function manifestText(
  recorded: ManifestEntry[],
  stale: { entry: ManifestEntry; action: Removal }[],
  prefix: string,
): string {
  const kept = stale.filter((s) =>
    s.action === "prune" && lstat(join(prefix, s.entry.path))?.isDirectory
  ).map((s) => s.entry);
  return formatManifest(
    [...recorded, ...kept].sort((a, b) =>
      rank(a) - rank(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    ),
  );
}

/** Directories (and the cache) before files and links in the manifest. */
function rank(e: ManifestEntry): number {
  return e.kind === "dir" || e.kind === "cache" ? 0 : 1;
}

function isEmptyDir(path: string): boolean {
  try {
    return [...Deno.readDirSync(path)].length === 0;
  } catch {
    return false;
  }
}

/** Reads the manifest, or says why it cannot be trusted. */
function loadManifest(prefix: string): Manifest | undefined {
  const manifest = readManifest(prefix);
  if (manifest instanceof Error) {
    writeStderr(
      `cvm install: ${join(prefix, MANIFEST)}: ${manifest.message}\n`,
    );
    return undefined;
  }
  return manifest ?? new Map();
}

/**
 * `cvm install --show`: prints every entry with its mode and what
 * installing would do (create, keep, update, replace, refuse; remove for
 * what an earlier install made that is no longer wanted), changing nothing
 * under the prefix.
 *
 * @param options The prefix, force and launcher options.
 * @param source Where the installation comes from.
 * @returns 0, or 1 when the manifest is damaged.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showInstall } from "./install.ts";
 * import { findSource } from "./source.ts";
 * // Prints the plan; changes nothing.
 * assert.equal(await showInstall({ prefix: "/opt/cvm", force: false, launcher: false }, findSource(false)), 0);
 * ```
 */
export async function showInstall(
  options: InstallOptions,
  source: Source,
): Promise<number> {
  const manifest = loadManifest(options.prefix);
  if (manifest === undefined) return 1;
  // From a source tree without --launcher this is the last build's binary.
  const payload = await preparePayload(source, { build: false });
  if (payload === undefined) return 1;
  try {
    const { plan, stale } = decideAll(options, manifest, payload);
    const lines = [describeSource(source)];
    const rows = [
      ...plan.map((p) => [describe(options.prefix, p.entry), p.action, p.why]),
      ...stale.filter((s) => s.action !== "gone").map((s) => [
        describe(options.prefix, s.entry),
        s.action === "prune" ? "remove if empty" : s.action,
        s.why,
      ]),
    ];
    const width = Math.max(...rows.map((r) => r[0]!.length));
    for (const [what, action, why] of rows) {
      lines.push(
        `${what!.padEnd(width)}  ${action}${
          why === undefined ? "" : ` (${why})`
        }`,
      );
    }
    writeStdout(lines.join("\n") + "\n");
    return 0;
  } finally {
    payload.cleanup();
  }
}

/**
 * `cvm install`: prepares the payload (builds or stages from a source
 * tree), then makes what `--show` lists, in order, changing only what
 * differs, and removes what an earlier install made that is no longer
 * wanted. Refuses, before touching anything, when a file it did not create
 * (or that changed since) is in the way, unless `force`.
 *
 * @param options The prefix, force and launcher options.
 * @param source Where the installation comes from.
 * @returns The exit status: 0 done, 1 refused or failed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { install } from "./install.ts";
 * import { findSource } from "./source.ts";
 * const prefix = Deno.makeTempDirSync();
 * assert.equal(await install({ prefix, force: false, launcher: true }, findSource(true)), 0);
 * Deno.removeSync(prefix, { recursive: true });
 * ```
 */
export async function install(
  options: InstallOptions,
  source: Source,
): Promise<number> {
  const { prefix } = options;
  const manifest = loadManifest(prefix);
  if (manifest === undefined) return 1;
  let payload: Payload | undefined;
  try {
    payload = await preparePayload(source);
  } catch (e) {
    writeStderr(`cvm install: ${e instanceof Error ? e.message : e}\n`);
    return 1;
  }
  if (payload === undefined) return 1;
  try {
    const { plan, stale, recorded, context } = decideAll(
      options,
      manifest,
      payload,
    );
    const missing = plan.find((p) =>
      p.entry.kind === "file" && p.entry.hash === undefined
    );
    if (missing?.entry.kind === "file") {
      writeStderr(`cvm install: cannot read ${missing.entry.from}\n`);
      return 1;
    }
    const refused = [
      ...plan.filter((p) => p.action === "refuse").map((p) =>
        `refusing to replace ${join(prefix, p.entry.path)}: ${p.why}`
      ),
      ...stale.filter((s) => s.action === "refuse").map((s) =>
        `refusing to remove ${join(prefix, s.entry.path)}: ${s.why}`
      ),
    ];
    if (refused.length > 0) {
      for (const r of refused) writeStderr(`cvm install: ${r}\n`);
      writeStderr("cvm install: nothing changed; use --force to replace\n");
      return 1;
    }
    const counts = { create: 0, keep: 0, update: 0, replace: 0, removed: 0 };
    for (const s of stale) {
      if (s.action !== "remove" || s.entry.kind === "cache") continue;
      Deno.removeSync(join(prefix, s.entry.path));
      counts.removed++;
      if (s.why !== undefined) {
        writeStdout(
          `cvm install: removed ${join(prefix, s.entry.path)} (${s.why})\n`,
        );
      }
    }
    const make = (entry: Entry, action: Action, text = "") => {
      counts[action === "refuse" ? "keep" : action]++;
      if (action === "keep" || action === "refuse") return;
      apply(prefix, entry, text);
      if (action === "replace") {
        writeStdout(`cvm install: replaced ${join(prefix, entry.path)}\n`);
      }
    };
    for (const { entry, action } of plan) {
      if (entry.kind !== "manifest") make(entry, action);
    }
    counts.removed += removeLeftovers(prefix, stale);
    // Last, so that it lists only what is there.
    const text = manifestText(recorded, stale, prefix);
    for (const { entry } of plan) {
      if (entry.kind !== "manifest") continue;
      make(
        entry,
        decide(entry, { ...context, manifestText: text }).action,
        text,
      );
    }
    writeStdout(
      `cvm install: ${summary(plan.map((p) => p.entry))} under ${prefix}: ` +
        `${counts.create} created, ${
          counts.update + counts.replace
        } updated, ` +
        `${counts.keep} unchanged, ${counts.removed} removed\n`,
    );
    if (payload.portable) {
      const failed = await warmCache(prefix);
      if (failed !== undefined) {
        writeStderr(
          `cvm install: the installed tree does not load offline: ${failed}\n`,
        );
        return 1;
      }
    }
    return 0;
  } finally {
    payload.cleanup();
  }
}

/** Makes one entry (a create, an update or a replacement). */
function apply(prefix: string, entry: Entry, manifestText: string): void {
  const full = join(prefix, entry.path);
  switch (entry.kind) {
    case "dir":
    case "cache":
      Deno.mkdirSync(full, { recursive: true, mode: entry.mode });
      Deno.chmodSync(full, entry.mode);
      break;
    case "file":
      replaceAtomically(full, (tmp) => {
        Deno.copyFileSync(entry.from, tmp);
        Deno.chmodSync(tmp, entry.mode);
      });
      break;
    case "link":
      replaceAtomically(full, (tmp) => Deno.symlinkSync(entry.target, tmp));
      break;
    case "manifest":
      replaceAtomically(full, (tmp) => {
        Deno.writeTextFileSync(tmp, manifestText);
        Deno.chmodSync(tmp, entry.mode);
      });
      break;
  }
}

/**
 * Removes the caches no longer wanted, then the directories no longer
 * wanted that are empty, deepest first.
 *
 * @param prefix The installation prefix.
 * @param stale What the manifest lists that is no longer wanted, decided.
 * @returns How many it removed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeLeftovers } from "./install.ts";
 * const prefix = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${prefix}/lib/cvm`, { recursive: true });
 * assert.equal(removeLeftovers(prefix, [
 *   { entry: { kind: "dir", path: "lib", mode: 0o755 }, action: "prune" },
 *   { entry: { kind: "dir", path: "lib/cvm", mode: 0o755 }, action: "prune" },
 * ]), 2);
 * Deno.removeSync(prefix);
 * ```
 */
export function removeLeftovers(
  prefix: string,
  stale: { entry: ManifestEntry; action: Removal }[],
): number {
  let removed = 0;
  for (const s of stale) {
    if (s.entry.kind === "cache" && s.action === "remove") {
      Deno.removeSync(join(prefix, s.entry.path), { recursive: true });
      removed++;
    }
  }
  const dirs = stale.filter((s) => s.action === "prune").map((s) =>
    s.entry.path
  )
    .sort().reverse();
  for (const dir of dirs) {
    if (isEmptyDir(join(prefix, dir))) {
      Deno.removeSync(join(prefix, dir));
      removed++;
    }
  }
  return removed;
}

/** "1 file, 34 links, 3 directories" for the summary line. */
function summary(entries: Entry[]): string {
  const count = (kinds: string[]) =>
    entries.filter((e) => kinds.includes(e.kind)).length;
  const n = (k: number, one: string, many: string) =>
    `${k} ${k === 1 ? one : many}`;
  return [
    n(count(["file", "manifest"]), "file", "files"),
    n(count(["link"]), "link", "links"),
    n(count(["dir", "cache"]), "directory", "directories"),
  ].join(", ");
}
