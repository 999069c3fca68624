/**
 * `cvm install --check` (the reference's `instcheck`): verifies every file,
 * symlink and directory the manifest lists (present, same mode, same
 * SHA-256), that every program is a symlink to `cvm`, that the installed
 * `cvm` lists the same programs, and that a client and a module answer
 * through their links. Names each problem.
 *
 * @module
 */

import { join } from "node:path";
import { PROGRAMS } from "../programs.ts";
import { writeStderr, writeStdout } from "../program.ts";
import { fileHash, lstat, permissions, readLink } from "./_fs.ts";
import {
  MANIFEST,
  type Manifest,
  type ManifestEntry,
  octal,
  readManifest,
} from "./manifest.ts";
import { EXEC_MODE, type InstallOptions } from "./install.ts";

/**
 * What is wrong with one manifest entry on disk.
 *
 * @param prefix The installation prefix.
 * @param entry The entry.
 * @returns The problem, naming the path, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryProblem } from "./check.ts";
 * assert.equal(entryProblem("/nonexistent", { kind: "dir", path: "bin", mode: 0o755 }), "missing: /nonexistent/bin");
 * ```
 */
export function entryProblem(
  prefix: string,
  entry: ManifestEntry,
): string | undefined {
  const full = join(prefix, entry.path);
  const info = lstat(full);
  if (info === undefined) return `missing: ${full}`;
  const wrongMode = (want: number) =>
    permissions(info) === want
      ? undefined
      : `wrong mode ${octal(permissions(info))} (want ${octal(want)}): ${full}`;
  switch (entry.kind) {
    case "dir":
    case "cache":
      return info.isDirectory
        ? wrongMode(entry.mode)
        : `not a directory: ${full}`;
    case "file":
      if (!info.isFile) return `not a regular file: ${full}`;
      if (fileHash(full) !== entry.hash) {
        return `changed (checksum differs from the manifest): ${full}`;
      }
      return wrongMode(entry.mode);
    case "link": {
      if (!info.isSymlink) return `not a symlink to ${entry.target}: ${full}`;
      const target = readLink(full);
      return target === entry.target
        ? undefined
        : `points to ${target}, not ${entry.target}: ${full}`;
    }
  }
}

/**
 * `cvm install --check`: verifies the installation under the prefix and
 * names each problem.
 *
 * @param options The prefix.
 * @returns 0 when all is well, 1 with each problem on stderr.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInstall } from "./check.ts";
 * assert.equal(await checkInstall({ prefix: "/nonexistent", force: false, launcher: false }), 1);
 * ```
 */
export async function checkInstall(options: InstallOptions): Promise<number> {
  const { prefix } = options;
  const bin = join(prefix, "bin");
  const binary = join(bin, "cvm");
  const problems = new Set<string>();
  const names = PROGRAMS.map((p) => p.name);
  const manifest: Manifest | Error | undefined = readManifest(prefix);
  if (manifest === undefined) {
    problems.add(`no manifest: ${join(prefix, MANIFEST)}`);
  } else if (manifest instanceof Error) {
    problems.add(
      `damaged manifest: ${join(prefix, MANIFEST)}: ${manifest.message}`,
    );
  } else {
    for (const entry of manifest.values()) {
      const problem = entryProblem(prefix, entry);
      if (problem !== undefined) problems.add(problem);
    }
  }
  const info = lstat(binary);
  if (info === undefined) problems.add(`missing: ${binary}`);
  else if (!info.isFile) problems.add(`not a regular file: ${binary}`);
  else if (permissions(info) !== EXEC_MODE) {
    problems.add(
      `wrong mode ${octal(permissions(info))} (want ${
        octal(EXEC_MODE)
      }): ${binary}`,
    );
  }
  for (const name of names) {
    const problem = entryProblem(prefix, {
      kind: "link",
      path: `bin/${name}`,
      target: "cvm",
    });
    if (problem !== undefined) problems.add(problem);
  }
  if (info?.isFile) {
    for (const p of await programProblems(bin, names)) problems.add(p);
  }
  if (problems.size > 0) {
    for (const p of problems) writeStderr(`cvm install --check: ${p}\n`);
    return 1;
  }
  const files = manifest instanceof Map ? manifest.size : 0;
  writeStdout(
    `cvm install --check: ok: ${binary}, ${names.length} program links, ` +
      `${files} entries of the manifest\n`,
  );
  return 0;
}

/** Runs the installed cvm: its program list, and a client and a module through their links. */
async function programProblems(
  bin: string,
  names: string[],
): Promise<string[]> {
  const binary = join(bin, "cvm");
  const problems: string[] = [];
  const listed = await runQuiet(binary, ["--list"], {});
  if (listed.code !== 0) {
    return [`${binary} --list failed: ${failure(listed)}`];
  }
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
  return problems;
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
