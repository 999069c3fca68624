/**
 * Helpers of the installer tests: a listing of a directory tree to compare
 * before and after, a copy of the checkout as git sees it (what a clone
 * would hold, uncommitted changes included), and a way to run a program
 * with the build machine hidden from it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { which } from "../e2e/_helpers.ts";

/**
 * Every path under `dir` with what it is: `dir 0755`, `file 0644 SHA-256`,
 * `link -> TARGET`. Paths under one of `exclude` (relative) are left out.
 *
 * @param dir The directory.
 * @param exclude Relative paths whose subtree is not listed.
 * @returns Relative path → description, sorted by path.
 */
export function listing(
  dir: string,
  exclude: string[] = [],
): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (rel: string) => {
    const names = [...Deno.readDirSync(rel ? join(dir, rel) : dir)]
      .map((e) => e.name).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(dir, path);
      const info = Deno.lstatSync(full);
      const mode = `0${((info.mode ?? 0) & 0o7777).toString(8)}`;
      if (info.isSymlink) out.set(path, `link -> ${Deno.readLinkSync(full)}`);
      else if (info.isFile) {
        const hash = createHash("sha256").update(Deno.readFileSync(full))
          .digest("hex");
        out.set(path, `file ${mode} ${hash}`);
      } else if (info.isDirectory) {
        out.set(path, `dir ${mode}`);
        if (!exclude.includes(path)) visit(path);
      }
    }
  };
  visit("");
  return out;
}

/**
 * The differences between two listings, one line each, for a message.
 *
 * @param before The first listing.
 * @param after The second.
 * @returns `+ path`, `- path`, `~ path` lines; empty when they are equal.
 */
export function listingDiff(
  before: Map<string, string>,
  after: Map<string, string>,
): string[] {
  const lines: string[] = [];
  for (const [path, what] of before) {
    if (!after.has(path)) lines.push(`- ${path} (${what})`);
    else if (after.get(path) !== what) {
      lines.push(`~ ${path} (${what} → ${after.get(path)})`);
    }
  }
  for (const [path, what] of after) {
    if (!before.has(path)) lines.push(`+ ${path} (${what})`);
  }
  return lines;
}

/**
 * Copies the checkout as git sees it (tracked files as they are in the
 * working tree, and new files not ignored) to `dest`: what a clone of the
 * working tree would hold, with no node_modules and no dist/.
 *
 * @param root The checkout.
 * @param dest The directory to make.
 * @returns How many files it copied, or undefined when git is missing.
 */
export async function copyCheckout(
  root: string,
  dest: string,
): Promise<number | undefined> {
  const git = which("git");
  if (git === undefined) return undefined;
  const out = await new Deno.Command(git, {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`git ls-files: ${new TextDecoder().decode(out.stderr)}`);
  }
  const paths = new Set(
    new TextDecoder().decode(out.stdout).split("\0").filter((p) => p !== ""),
  );
  let copied = 0;
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(join(root, path));
    } catch {
      continue; // deleted in the working tree
    }
    Deno.mkdirSync(dirname(join(dest, path)), { recursive: true });
    if (info.isSymlink) {
      Deno.symlinkSync(Deno.readLinkSync(join(root, path)), join(dest, path));
    } else if (info.isFile) {
      Deno.copyFileSync(join(root, path), join(dest, path));
      Deno.chmodSync(join(dest, path), (info.mode ?? 0o644) & 0o777);
    }
    copied++;
  }
  return copied;
}

/**
 * A command wrapper that hides directories from the program it runs: in a
 * private mount namespace (`unshare --mount`, root only), each directory
 * gets an empty tmpfs over it. Undefined where that is not possible.
 *
 * @param hide The directories to hide.
 * @returns `(cmd, args) → [cmd, args]`, or undefined.
 */
export async function hider(
  hide: string[],
): Promise<((cmd: string, args: string[]) => [string, string[]]) | undefined> {
  const unshare = which("unshare");
  const mount = which("mount");
  if (unshare === undefined || mount === undefined) return undefined;
  const script = [
    "set -e",
    `while [ "$1" != -- ]; do '${mount}' -t tmpfs -o size=1m cvm-hidden "$1"; shift; done`,
    "shift",
    'exec "$@"',
  ].join("\n");
  const wrap = (cmd: string, args: string[]): [string, string[]] => [
    unshare,
    [
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
      script,
      "sh",
      ...hide,
      "--",
      cmd,
      ...args,
    ],
  ];
  const [cmd, args] = wrap("/bin/true", []);
  const probe = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "null",
  }).output();
  return probe.success ? wrap : undefined;
}
