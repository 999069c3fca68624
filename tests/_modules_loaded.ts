/**
 * What one run of a program loads, from deno's own debug log: our source
 * files, the npm packages it resolves, and the `node:` built-ins those
 * files import statically. Shared by the start-up test and `deno task
 * bench` (its module-count rows).
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** What a program loaded. */
export interface Loaded {
  /** Our source files, relative to the repository root, sorted. */
  files: string[];
  /** The npm packages resolved (name@version), sorted. */
  npm: string[];
  /** The node: built-ins the loaded files import statically, sorted. */
  node: string[];
}

/** The rooms cvm-pwfile and the clients must never load. */
export const NOT_FOR_LIGHT_PROGRAMS: readonly string[] = [
  "modules/sql/",
  "modules/qmail/",
  "modules/ldap/",
  "installer/",
];

/**
 * Runs `main.ts PROGRAM ARGS…` (as the launcher does, with deno's log at
 * debug) and says what it loaded.
 *
 * @param args The program's name and arguments.
 * @param options Its stdin and extra environment.
 * @returns Files, npm packages and node: built-ins.
 */
export async function modulesLoaded(
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<Loaded> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-prompt",
      "--log-level=debug",
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/main.ts`,
      ...args,
    ],
    env: { ...options.env, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(options.stdin ?? new Uint8Array(0)).catch(() => {});
  await writer.close().catch(() => {});
  const text = new TextDecoder().decode((await child.output()).stderr);
  const specifiers = new Set<string>();
  const loading =
    /(?:fetch_no_follow - specifier: |code cache \w+ for ES module: )(file:\/\/[^\s,]+)/g;
  for (const m of text.matchAll(loading)) specifiers.add(m[1]);
  const npm = new Set<string>();
  for (const m of text.matchAll(/Resolved package folder of (\S+) to/g)) {
    npm.add(m[1]);
  }
  const files: string[] = [];
  const node = new Set<string>();
  const statics = /^\s*(?:import|export)\s[^;]*?from\s*"(node:[^"]+)"/gm;
  for (const specifier of specifiers) {
    const path = decodeURIComponent(new URL(specifier).pathname);
    if (!path.startsWith(`${ROOT}/`) || path.includes("/node_modules/")) {
      continue;
    }
    files.push(path.slice(ROOT.length + 1));
    for (const m of Deno.readTextFileSync(path).matchAll(statics)) {
      node.add(m[1]);
    }
  }
  return { files: files.sort(), npm: [...npm].sort(), node: [...node].sort() };
}
