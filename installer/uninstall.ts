/**
 * `cvm install --uninstall`: removes exactly what the manifest lists (the
 * files and symlinks, deno's cache directory with its contents, then the
 * directories the install created, once empty) and the manifest itself;
 * nothing else. A listed file that changed since the install is not
 * removed without `--force`: it refuses before removing anything.
 *
 * @module
 */

import { join } from "node:path";
import { writeStderr, writeStdout } from "../program.ts";
import { lstat } from "./_fs.ts";
import { MANIFEST, readManifest } from "./manifest.ts";
import {
  decideRemoval,
  type InstallOptions,
  removeLeftovers,
} from "./install.ts";

/**
 * `cvm install --uninstall`.
 *
 * @param options The prefix and `--force`.
 * @returns 0 done, 1 refused or nothing installed there.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uninstall } from "./uninstall.ts";
 * assert.equal(uninstall({ prefix: "/nonexistent", force: false, launcher: false }), 1);
 * ```
 */
export function uninstall(options: InstallOptions): number {
  const { prefix, force } = options;
  const manifestPath = join(prefix, MANIFEST);
  const manifest = readManifest(prefix);
  if (manifest === undefined) {
    writeStderr(`cvm install --uninstall: no manifest: ${manifestPath}\n`);
    return 1;
  }
  if (manifest instanceof Error) {
    writeStderr(
      `cvm install --uninstall: ${manifestPath}: ${manifest.message}\n`,
    );
    return 1;
  }
  const decided = [...manifest.values()].map((entry) => ({
    entry,
    ...decideRemoval(entry, prefix, force),
  }));
  const refused = decided.filter((d) => d.action === "refuse");
  if (refused.length > 0) {
    for (const d of refused) {
      writeStderr(
        `cvm install --uninstall: refusing to remove ${
          join(prefix, d.entry.path)
        }: ${d.why}\n`,
      );
    }
    writeStderr(
      "cvm install --uninstall: nothing removed; use --force to remove it\n",
    );
    return 1;
  }
  let removed = 0;
  for (const d of decided) {
    if (d.action !== "remove" || d.entry.kind === "cache") continue;
    Deno.removeSync(join(prefix, d.entry.path));
    removed++;
    if (d.why !== undefined) {
      writeStdout(
        `cvm install --uninstall: removed ${
          join(prefix, d.entry.path)
        } (${d.why})\n`,
      );
    }
  }
  if (lstat(manifestPath)?.isFile) Deno.removeSync(manifestPath);
  removed += removeLeftovers(prefix, decided);
  for (const d of decided) {
    if (d.action === "prune" && lstat(join(prefix, d.entry.path))) {
      writeStdout(
        `cvm install --uninstall: kept ${
          join(prefix, d.entry.path)
        } (not empty)\n`,
      );
    }
  }
  writeStdout(
    `cvm install --uninstall: removed ${removed} of the ${manifest.size} ` +
      `entries of ${manifestPath}, and the manifest\n`,
  );
  return 0;
}
