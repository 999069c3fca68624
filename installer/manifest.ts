/**
 * The install manifest, `PREFIX/share/cvm/install-manifest`: every file,
 * symlink and directory `cvm install` created under the prefix, by path
 * relative to the prefix (so a copied prefix still checks), files with their
 * mode and SHA-256. `--check` verifies it, `--uninstall` removes what it
 * lists, and an upgrade tells its own files from anyone else's by it.
 *
 * @module
 */

import { isAbsolute, join, normalize } from "node:path";

/** The manifest's path under the prefix. */
export const MANIFEST = "share/cvm/install-manifest";
/** The manifest's first line: a file without it is not a manifest. */
export const MANIFEST_HEADER =
  "# cvm install manifest: what `cvm install` created under this prefix";

/** One thing the installer created, by path relative to the prefix. */
export type ManifestEntry =
  /** A directory it created (removed on uninstall once empty). */
  | { kind: "dir"; path: string; mode: number }
  /** The runtime cache deno writes into (removed on uninstall with its contents). */
  | { kind: "cache"; path: string; mode: number }
  /** A regular file, with its mode and SHA-256 (hex). */
  | { kind: "file"; path: string; mode: number; hash: string }
  /** A symlink and its target, as written. */
  | { kind: "link"; path: string; target: string };

/** The manifest's entries by relative path. */
export type Manifest = Map<string, ManifestEntry>;

/**
 * A mode as the manifest and the messages write it.
 *
 * @param mode The mode (bits above 0o7777 are ignored).
 * @returns E.g. `0755`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { octal } from "./manifest.ts";
 * assert.equal(octal(0o100644), "0644");
 * ```
 */
export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/**
 * Whether a manifest path is one the installer could have written: relative,
 * normalized, no `..`, no tab or newline. Anything else in a manifest is
 * refused rather than followed out of the prefix.
 *
 * @param path The path as the manifest has it.
 * @returns True when it stays under the prefix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPrefixPath } from "./manifest.ts";
 * assert.equal(isPrefixPath("lib/cvm/main.ts"), true);
 * assert.equal(isPrefixPath("../etc/passwd"), false);
 * ```
 */
export function isPrefixPath(path: string): boolean {
  return path !== "" && path !== "." && !isAbsolute(path) &&
    normalize(path) === path && !path.split("/").includes("..") &&
    !/[\t\n\r]/.test(path);
}

/**
 * Writes a manifest: the header, then one tab-separated line per entry in
 * the order given (directories before what they hold).
 *
 * @param entries The entries.
 * @returns The manifest's text.
 * @example
 * ```ts
 * import { formatManifest } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * const text = formatManifest([{ kind: "link", path: "bin/cvm-unix", target: "cvm" }]);
 * assert.match(text, /^# cvm install manifest: .*\nlink\tbin\/cvm-unix\tcvm\n$/);
 * ```
 */
export function formatManifest(entries: Iterable<ManifestEntry>): string {
  const lines = [MANIFEST_HEADER];
  for (const e of entries) {
    switch (e.kind) {
      case "dir":
      case "cache":
        lines.push(`${e.kind}\t${e.path}\t${octal(e.mode)}`);
        break;
      case "file":
        lines.push(`file\t${e.path}\t${octal(e.mode)}\t${e.hash}`);
        break;
      case "link":
        lines.push(`link\t${e.path}\t${e.target}`);
        break;
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Reads a manifest's text.
 *
 * @param text The text.
 * @returns The entries by path, or an error naming the first bad line;
 *   undefined when the text is not a manifest at all.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatManifest, parseManifest } from "./manifest.ts";
 * const text = formatManifest([{ kind: "dir", path: "bin", mode: 0o755 }]);
 * assert.deepEqual(parseManifest(text), new Map([["bin", { kind: "dir", path: "bin", mode: 0o755 }]]));
 * ```
 */
export function parseManifest(text: string): Manifest | Error | undefined {
  if (!text.startsWith(MANIFEST_HEADER + "\n")) return undefined;
  const manifest: Manifest = new Map();
  const lines = text.split("\n").slice(1);
  for (const [i, line] of lines.entries()) {
    if (line === "" || line.startsWith("#")) continue;
    const entry = parseLine(line.split("\t"));
    if (entry === undefined || !isPrefixPath(entry.path)) {
      return new Error(`line ${i + 2} is not a manifest entry: ${line}`);
    }
    manifest.set(entry.path, entry);
  }
  return manifest;
}

function parseMode(text: string | undefined): number | undefined {
  return text !== undefined && /^0[0-7]{3,4}$/.test(text)
    ? parseInt(text, 8)
    : undefined;
}

function parseLine(fields: string[]): ManifestEntry | undefined {
  const [kind, path, a, b] = fields;
  if (path === undefined) return undefined;
  if ((kind === "dir" || kind === "cache") && fields.length === 3) {
    const mode = parseMode(a);
    return mode === undefined ? undefined : { kind, path, mode };
  }
  if (kind === "file" && fields.length === 4) {
    const mode = parseMode(a);
    if (mode === undefined || !/^[0-9a-f]{64}$/.test(b)) return undefined;
    return { kind, path, mode, hash: b };
  }
  if (kind === "file" && fields.length === 3 && /^[0-9a-f]{64}$/.test(a)) {
    // The form before modes were recorded: the binary, always 0755.
    return { kind, path, mode: 0o755, hash: a };
  }
  if (kind === "link" && fields.length === 3 && a !== "") {
    return { kind, path, target: a };
  }
  return undefined;
}

/**
 * Reads the manifest under `prefix`.
 *
 * @param prefix The installation prefix.
 * @returns Its entries; undefined when there is none (or the file there is
 *   not one); an Error when it is damaged.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readManifest } from "./manifest.ts";
 * assert.equal(readManifest("/nonexistent"), undefined);
 * ```
 */
export function readManifest(prefix: string): Manifest | Error | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(prefix, MANIFEST));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return e instanceof Error ? e : new Error(String(e));
  }
  return parseManifest(text);
}
