/**
 * `cvm service NAME MODULE SOCKET`: makes a daemontools service directory
 * running a module on a local socket, the way the seed sets up
 * `cvm-unix.local`: `run` takes its environment from `env/` with `envdir`
 * and execs the module on `cvm-local:$CVM_SOCKET`; `log/run` is
 * `multilog t ./main`.
 *
 * @module
 */

import { join } from "node:path";
import { FatalError, writeStdout } from "../program.ts";

/** The options of `cvm service`. */
export interface ServiceOptions {
  /** The service name, e.g. `cvm-unix.local`. */
  name: string;
  /** The module: a program name (`cvm-unix`, or `unix`) or a path. */
  module: string;
  /** The local socket's path. */
  socket: string;
  /** Where service directories live (default `/var/svc.d`). */
  dir: string;
  /** Where module programs are when named without a path (default `/usr/local/bin`). */
  bindir: string;
  /** Extra `env/` settings (they override the module's defaults). */
  env: Record<string, string>;
  /** Run the module as this user (`setuidgid`). */
  user?: string;
  /** Run multilog as this user (`setuidgid`). */
  logUser?: string;
  /** Replace an existing service directory's files. */
  force: boolean;
}

/** A file of a service directory. */
export interface ServiceFile {
  /** Path relative to the service directory; a trailing `/` is a directory. */
  path: string;
  /** Its mode. */
  mode: number;
  /** Its content (empty for a directory). */
  content: string;
}

/** The `env/` settings a module needs to start, as examples to edit. */
export const MODULE_DEFAULT_ENV: Record<string, Record<string, string>> = {
  "cvm-pwfile": { CVM_PWFILE_PATH: "/etc/cvm/pwfile" },
  "cvm-pgsql": {
    PGHOST: "/var/run/postgresql",
    PGDATABASE: "mail",
    PGUSER: "cvm",
  },
  "cvm-mysql": { CVM_MYSQL_DB: "mail", CVM_MYSQL_USER: "cvm" },
  "cvm-sqlite": { CVM_SQLITE_DB: "/etc/cvm/accounts.sqlite" },
  "cvm-ldap": {
    CVM_LDAP_URI: "ldapi:///",
    CVM_LDAP_BASE: "ou=people,dc=example,dc=com",
  },
};

/** Quotes a word for sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The module program's path: a path as given, a name under `bindir` (with
 * `cvm-` added when missing, as `cvm unix` means `cvm-unix`).
 *
 * @param module The MODULE argument.
 * @param bindir Where programs are.
 * @returns The path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modulePath } from "./service.ts";
 * assert.equal(modulePath("unix", "/usr/local/bin"), "/usr/local/bin/cvm-unix");
 * ```
 */
export function modulePath(module: string, bindir: string): string {
  if (module.includes("/")) return module;
  return join(bindir, module.startsWith("cvm-") ? module : `cvm-${module}`);
}

/**
 * The files of a service directory, relative to it.
 *
 * @param options What to run, where.
 * @returns The directories and files, parents first.
 * @example
 * ```ts
 * import { serviceFiles } from "./service.ts";
 * import assert from "node:assert/strict";
 * const paths = serviceFiles({ name: "cvm-unix.local", module: "cvm-unix", socket: "/tmp/.cvm-unix.local",
 *   dir: "/var/svc.d", bindir: "/usr/local/bin", env: {}, force: false })
 *   .map((f) => f.path);
 * assert.deepEqual(paths, ["", "run", "env/", "env/CVM_SOCKET", "log/", "log/run", "log/main/"]);
 * ```
 */
export function serviceFiles(options: ServiceOptions): ServiceFile[] {
  const program = modulePath(options.module, options.bindir);
  const base = program.split("/").pop()!.replace(/-(local|udp)$/, "");
  const env: Record<string, string> = {
    CVM_SOCKET: options.socket,
    ...MODULE_DEFAULT_ENV[base],
    ...options.env,
  };
  const setuid = options.user ? `setuidgid ${shellQuote(options.user)} ` : "";
  const run = [
    "#!/bin/sh",
    `# ${options.name}: daemontools run script (made by \`cvm service\`).`,
    `# ${base} serves the local socket named in env/CVM_SOCKET; each file in`,
    "# env/ is one variable of its environment (envdir). Log: ./log/main.",
    "exec 2>&1",
    `exec envdir ./env ${setuid}sh -c '`,
    `  echo "*** Starting ${options.name}: $1"`,
    '  echo "*** >> configured for domain socket: $CVM_SOCKET"',
    '  exec "$1" "cvm-local:$CVM_SOCKET"',
    `' run ${shellQuote(program)}`,
    "",
  ].join("\n");
  const logSetuid = options.logUser
    ? `setuidgid ${shellQuote(options.logUser)} `
    : "";
  const logRun = [
    "#!/bin/sh",
    `# ${options.name}/log: multilog, timestamped (t), into ./main.`,
    `exec ${logSetuid}multilog t ./main`,
    "",
  ].join("\n");
  return [
    { path: "", mode: 0o755, content: "" },
    { path: "run", mode: 0o755, content: run },
    { path: "env/", mode: 0o755, content: "" },
    ...Object.keys(env).sort().map((key): ServiceFile => ({
      path: `env/${key}`,
      mode: /PASS/.test(key) ? 0o600 : 0o644,
      content: env[key] === "" ? "" : `${env[key]}\n`,
    })),
    { path: "log/", mode: 0o755, content: "" },
    { path: "log/run", mode: 0o755, content: logRun },
    { path: "log/main/", mode: 0o755, content: "" },
  ];
}

/**
 * Checks the arguments of `cvm service`.
 *
 * @param options The options.
 * @returns A problem, or undefined when they are usable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serviceProblem } from "./service.ts";
 * const problem = serviceProblem({ name: "a/b", module: "cvm-unix", socket: "/s", dir: "/d",
 *   bindir: "/b", env: {}, force: false });
 * assert.match(problem ?? "", /^the name must be one path component/);
 * ```
 */
export function serviceProblem(options: ServiceOptions): string | undefined {
  const { name, socket, env } = options;
  if (!/^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/.test(name)) {
    return "the name must be one path component of letters, digits and ._@+-";
  }
  if (!socket.startsWith("/")) return "the socket must be an absolute path";
  if (socket.includes("\n")) return "the socket path has a newline";
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      return `not a variable name: ${key}`;
    }
    if (env[key].includes("\n")) return `${key} has a newline`;
  }
  return undefined;
}

/**
 * `cvm service`: writes the service directory `DIR/NAME`. An existing file
 * with other content is left alone unless `force`.
 *
 * @param options What to run, where.
 * @returns 0 when made (or already as wanted); throws a FatalError when the
 * arguments are unusable (2) or something is in the way (1).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeService } from "./service.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(await makeService({ name: "cvm-unix.local", module: "cvm-unix",
 *   socket: "/tmp/.cvm-unix.local", dir, bindir: "/usr/local/bin", env: {}, force: false }), 0);
 * assert.equal(Deno.statSync(`${dir}/cvm-unix.local/run`).isFile, true);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function makeService(options: ServiceOptions): Promise<number> {
  const problem = serviceProblem(options);
  if (problem !== undefined) throw new FatalError(2, problem);
  const top = join(options.dir, options.name);
  const files = serviceFiles(options);
  const blocked: string[] = [];
  for (const file of files) {
    const path = join(top, file.path);
    let existing: string | undefined;
    try {
      const info = Deno.lstatSync(path);
      if (file.path === "" || file.path.endsWith("/")) {
        if (!info.isDirectory) blocked.push(`${path} is not a directory`);
        continue;
      }
      existing = info.isFile ? Deno.readTextFileSync(path) : "";
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    if (existing !== file.content && !options.force) {
      blocked.push(`${path} exists with other content`);
    }
  }
  if (blocked.length > 0) {
    throw new FatalError(
      1,
      `${blocked.join("; ")}; nothing changed` +
        (options.force ? "" : " (--force replaces files)"),
    );
  }
  let logOwner: { uid: number; gid: number } | undefined;
  if (options.logUser !== undefined) {
    const { getpwnam } = await import("../sys/mod.ts");
    logOwner = getpwnam(options.logUser);
    if (logOwner === undefined) {
      throw new FatalError(1, `no such user: ${options.logUser}`);
    }
  }
  for (const file of files) {
    const path = join(top, file.path);
    if (file.path === "" || file.path.endsWith("/")) {
      Deno.mkdirSync(path, { recursive: true, mode: file.mode });
      // multilog, run as the log user, writes there.
      if (file.path === "log/main/" && logOwner !== undefined) {
        Deno.chownSync(path, logOwner.uid, logOwner.gid);
      }
      continue;
    }
    Deno.writeTextFileSync(path, file.content, { mode: file.mode });
    Deno.chmodSync(path, file.mode);
  }
  writeStdout(
    `cvm service: ${top}: run ${
      modulePath(options.module, options.bindir)
    } on cvm-local:${options.socket}; log in ${join(top, "log", "main")}\n` +
      `cvm service: start it with: ln -s ${top} /service/${options.name}\n`,
  );
  return 0;
}
