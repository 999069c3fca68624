/**
 * The house rules of the import graph, as a function over edges so that a
 * test can feed it both the real graph (`deno info --json`) and graphs made
 * to break each rule:
 *
 * - **One way down.** Backends (cvm-pwfile, cvm-unix, cvm-chain, the sql,
 *   qmail and ldap rooms …) may use the runtime and the libraries; the
 *   runtime, the policy layers and the libraries (passwords, cdb, file
 *   cache) never import a backend; `protocol/` imports only itself, `sys/`
 *   only itself and `protocol/`; the client side never imports the module
 *   side.
 * - **Backends stand alone.** No backend imports another backend: what two
 *   of them share (a line layout, a password check) belongs in a library.
 * - **Faces.** A file outside a folder that has a `mod.ts` imports that
 *   `mod.ts`, never a file behind it. The program table (`programs.ts`) is
 *   the one exception: it names each client program's own file, so a
 *   program loads only what it runs.
 * - **No circles** between rooms.
 *
 * @module
 */

/** An import: `from` imports `to`; both are paths relative to the root. */
export interface ImportEdge {
  /** The importing file. */
  from: string;
  /** The imported file. */
  to: string;
}

/** The rooms whose face is a `mod.ts`, innermost first when nested. */
export const FACED_ROOMS: readonly string[] = [
  "clients/sasl",
  "modules/cdb",
  "modules/cdbfile",
  "modules/file_cache",
  "modules/ldap",
  "modules/passwords",
  "modules/policy",
  "modules/qmail",
  "modules/runtime",
  "modules/sql",
  "clients",
  "admin",
  "installer",
  "protocol",
  "sys",
];

/** Rooms below the backends: they must never import one. */
const BELOW_BACKENDS = [
  "modules/runtime",
  "modules/policy",
  "modules/passwords",
  "modules/cdb",
  "modules/file_cache",
  "protocol",
  "sys",
];

/** The backend rooms: each folder's files together make its backends. */
export const BACKEND_ROOMS: readonly string[] = [
  "modules/cdbfile",
  "modules/ldap",
  "modules/qmail",
  "modules/sql",
];

/** The backends of one file each: `modules/NAME.ts` exporting `createNameBackend`. */
export const BACKEND_FILES: readonly string[] = [
  "modules/chain.ts",
  "modules/pwfile.ts",
  "modules/unix.ts",
];

/**
 * The backend a file belongs to: its backend room, or the file itself when
 * it is a one-file backend; undefined for any other file.
 */
export function backendOf(path: string): string | undefined {
  if (BACKEND_FILES.includes(path)) return path;
  return BACKEND_ROOMS.find((room) => path.startsWith(room + "/"));
}

/**
 * The room a file sits in: its innermost faced room, else its folder. A
 * file at the top (main.ts, programs.ts, program.ts …) is a room of its
 * own: the dispatcher above everything and the program basics below it
 * share a folder, not a floor.
 */
export function roomOf(path: string): string {
  for (const room of FACED_ROOMS) {
    if (path.startsWith(room + "/")) return room;
  }
  const slash = path.lastIndexOf("/");
  return slash < 0 ? path : path.slice(0, slash);
}

/** Whether a file is a backend (a module's own code, not the runtime or a library). */
export function isBackend(path: string): boolean {
  if (!path.startsWith("modules/")) return false;
  return !BELOW_BACKENDS.some((room) => path.startsWith(room + "/"));
}

/** The faced room that contains a path, if any (the outermost one counts for reaching in). */
function facedRoomsOf(path: string): string[] {
  return FACED_ROOMS.filter((room) => path.startsWith(room + "/"));
}

/**
 * Lists every broken rule in a set of imports.
 *
 * @param edges The imports between the project's own files.
 * @returns One line per broken rule (empty when the house is in order).
 */
export function architectureViolations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const arrow = `${from} -> ${to}`;
    if (!isBackend(from) && isBackend(to) && from.startsWith("modules/")) {
      out.push(`runs up to a backend: ${arrow}`);
    }
    const fromBackend = backendOf(from);
    const toBackend = backendOf(to);
    if (fromBackend && toBackend && fromBackend !== toBackend) {
      out.push(`a backend imports another backend: ${arrow}`);
    }
    if (from.startsWith("protocol/") && !to.startsWith("protocol/")) {
      out.push(`protocol/ is pure and imports only itself: ${arrow}`);
    }
    if (
      from.startsWith("sys/") && !to.startsWith("sys/") &&
      !to.startsWith("protocol/")
    ) {
      out.push(`sys/ imports only itself and protocol/: ${arrow}`);
    }
    if (from.startsWith("clients/") && to.startsWith("modules/")) {
      out.push(`the client side imports the module side: ${arrow}`);
    }
    for (const room of facedRoomsOf(to)) {
      if (from.startsWith(room + "/")) continue;
      if (to === `${room}/mod.ts`) continue;
      if (from === "programs.ts" && room === "clients") continue;
      out.push(`reaches past ${room}/mod.ts: ${arrow}`);
    }
  }
  out.push(...roomCircles(edges));
  return out;
}

/** Circles in the graph of rooms (a room importing itself is no circle). */
function roomCircles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = roomOf(from);
    const b = roomOf(to);
    if (a === b || b.startsWith(a + "/") || a.startsWith(b + "/")) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  const out: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (room: string) => {
    state.set(room, "open");
    path.push(room);
    for (const to of next.get(room) ?? []) {
      if (state.get(to) === "open") {
        out.push(
          `rooms in a circle: ${
            [...path.slice(path.indexOf(to)), to].join(" -> ")
          }`,
        );
      } else if (!state.has(to)) visit(to);
    }
    path.pop();
    state.set(room, "done");
  };
  for (const room of [...next.keys()].sort()) {
    if (!state.has(room)) visit(room);
  }
  return out;
}

/**
 * The imports between the project's own files, read from
 * `deno info --json` for the given entry points.
 *
 * @param root The repository root (an absolute path).
 * @param entries The entry files, relative to the root.
 * @returns The edges, paths relative to the root.
 */
export async function projectImports(
  root: string,
  entries: readonly string[],
): Promise<ImportEdge[]> {
  const prefix = new URL(`file://${root}/`).href;
  const edges = new Map<string, ImportEdge>();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--no-npm", "--no-remote", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(new TextDecoder().decode(out.stderr));
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: {
          code?: { specifier?: string };
          type?: { specifier?: string };
        }[];
      }[];
    };
    for (const module of info.modules) {
      if (!module.specifier.startsWith(prefix)) continue;
      const from = module.specifier.slice(prefix.length);
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          if (!target?.startsWith(prefix)) continue;
          const to = target.slice(prefix.length);
          edges.set(`${from} ${to}`, { from, to });
        }
      }
    }
  }
  return [...edges.values()];
}
