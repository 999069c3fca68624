/**
 * Process identity and image calls through libc: dropping privileges,
 * changing directory, and replacing the Deno process with another program.
 *
 * @module
 */

import { cString, errno, errnoError, lazy } from "./ffi.ts";

const libc = lazy(() =>
  Deno.dlopen("libc.so.6", {
    setgroups: { parameters: ["usize", "buffer"], result: "i32" },
    setgid: { parameters: ["u32"], result: "i32" },
    setuid: { parameters: ["u32"], result: "i32" },
    chdir: { parameters: ["buffer"], result: "i32" },
    execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
    getuid: { parameters: [], result: "u32" },
    geteuid: { parameters: [], result: "u32" },
    getegid: { parameters: [], result: "u32" },
    setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
    setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
    signal: { parameters: ["i32", "pointer"], result: "pointer" },
  })
);

const SIGPIPE = 13;
const EINVAL = 22;

// glibc's wrappers for these apply the change to every thread of the
// process (POSIX semantics), which matters in the multi-threaded Deno runtime.
function check(call: string, rc: number): void {
  if (rc !== 0) throw errnoError(call, errno());
}

/**
 * Sets the supplementary group list (setgroups).
 *
 * @param gids The group ids.
 * @returns Nothing; throws an Error naming setgroups and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setgroups } from "./process.ts";
 * // The list the process already has, so nothing changes; only root may.
 * const line = Deno.readTextFileSync("/proc/self/status").match(/^Groups:(.*)$/m);
 * const groups = (line?.[1] ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
 * if (Deno.uid() === 0) setgroups(groups);
 * else assert.throws(() => setgroups(groups), { code: "EPERM" });
 * ```
 */
export function setgroups(gids: number[]): void {
  check(
    `setgroups(${gids.join(",")})`,
    libc().symbols.setgroups(BigInt(gids.length), new Uint32Array(gids)),
  );
}

/**
 * Sets the real, effective and saved group id (setgid).
 *
 * @param gid The group id.
 * @returns Nothing; throws an Error naming setgid and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getegid, setgid } from "./process.ts";
 * setgid(getegid()); // the group it already has: allowed, and nothing changes
 * assert.equal(getegid(), Deno.gid());
 * ```
 */
export function setgid(gid: number): void {
  check(`setgid(${gid})`, libc().symbols.setgid(gid));
}

/**
 * Sets the real, effective and saved user id (setuid).
 *
 * @param uid The user id.
 * @returns Nothing; throws an Error naming setuid and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { geteuid, setuid } from "./process.ts";
 * setuid(geteuid()); // the user it already is: allowed, and nothing changes
 * assert.equal(geteuid(), Deno.uid());
 * ```
 */
export function setuid(uid: number): void {
  check(`setuid(${uid})`, libc().symbols.setuid(uid));
}

/**
 * Changes the working directory (chdir).
 *
 * @param path The directory.
 * @returns Nothing; throws an Error naming chdir and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chdir } from "./process.ts";
 * const here = Deno.cwd();
 * chdir("/");
 * try {
 *   assert.equal(Deno.cwd(), "/");
 * } finally {
 *   chdir(here);
 * }
 * assert.throws(() => chdir("/nonexistent"), { code: "ENOENT" });
 * ```
 */
export function chdir(path: string): void {
  const pathC = cString(path);
  if (pathC === undefined) throw errnoError(`chdir(${path})`, EINVAL);
  check(`chdir(${path})`, libc().symbols.chdir(pathC));
}

/**
 * The real user id of the process (getuid).
 *
 * @returns The user id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getuid } from "./process.ts";
 * assert.equal(getuid(), Deno.uid()); // 0 when run as root
 * ```
 */
export function getuid(): number {
  return libc().symbols.getuid();
}

/** "Leave this id unchanged" for setres[ug]id. */
const KEEP = 0xffffffff;

/**
 * Sets only the effective user id, keeping the real and saved ones
 * (setresuid(-1, uid, -1)), so a privileged process can switch back.
 *
 * @param uid The effective user id to take on.
 * @returns Nothing; throws an Error naming setresuid and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { geteuid, seteuid } from "./process.ts";
 * if (Deno.uid() === 0) {
 *   seteuid(65534);
 *   try {
 *     assert.equal(geteuid(), 65534);
 *   } finally {
 *     seteuid(0); // back, since the saved id is still root
 *   }
 * }
 * assert.equal(geteuid(), Deno.uid());
 * ```
 */
export function seteuid(uid: number): void {
  check(`setresuid(-1, ${uid}, -1)`, libc().symbols.setresuid(KEEP, uid, KEEP));
}

/**
 * Sets only the effective group id (setresgid(-1, gid, -1)).
 *
 * @param gid The effective group id to take on.
 * @returns Nothing; throws an Error naming setresgid and errno on failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getegid, setegid } from "./process.ts";
 * const gid = getegid();
 * if (Deno.uid() === 0) {
 *   setegid(65534);
 *   try {
 *     assert.equal(getegid(), 65534);
 *   } finally {
 *     setegid(gid);
 *   }
 * }
 * assert.equal(getegid(), gid);
 * ```
 */
export function setegid(gid: number): void {
  check(`setresgid(-1, ${gid}, -1)`, libc().symbols.setresgid(KEEP, gid, KEEP));
}

/**
 * The effective group id of the process (getegid).
 *
 * @returns The effective gid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getegid } from "./process.ts";
 * assert.equal(getegid(), Deno.gid()); // 0 when run as root
 * ```
 */
export function getegid(): number {
  return libc().symbols.getegid();
}

/**
 * The effective user id of the process (geteuid).
 *
 * @returns The user id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { geteuid } from "./process.ts";
 * assert.equal(geteuid(), Deno.uid()); // 0 when run as root
 * ```
 */
export function geteuid(): number {
  return libc().symbols.geteuid();
}

// Builds a NULL-terminated array of pointers to NUL-terminated strings. The
// string buffers are returned alongside so that whoever holds the array also
// keeps them reachable (the array alone is only numbers to the GC).
function cStringArray(
  call: string,
  values: string[],
): { array: BigUint64Array<ArrayBuffer>; keep: Uint8Array[] } {
  const keep = values.map((value) => {
    const c = cString(value);
    if (c === undefined) throw errnoError(call, EINVAL);
    return c;
  });
  const array = new BigUint64Array(keep.length + 1);
  keep.forEach((c, i) => {
    array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(c)));
  });
  return { array, keep };
}

/**
 * Replaces the Deno process with another program (execve); never returns.
 *
 * @param path The program file (not searched in PATH; see resolveExecutable).
 * @param argv The argument vector, argv[0] included.
 * @param env The complete environment of the new program.
 * @returns Never; throws an Error naming execve and errno when the exec fails.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execve } from "./process.ts";
 * // A failed exec throws and leaves this process as it was.
 * assert.throws(() => execve("/nonexistent", ["x"], {}), { code: "ENOENT" });
 * // A successful one replaces the process, so show it in a child.
 * const code = `import { execve } from "${import.meta.resolve("./process.ts")}";
 *   execve("/bin/echo", ["echo", "hello"], { PATH: "/bin:/usr/bin" });`;
 * const child = new Deno.Command(Deno.execPath(), { args: ["eval", code] });
 * const { code: status, stdout } = await child.output();
 * assert.equal(status, 0);
 * assert.equal(new TextDecoder().decode(stdout), "hello\n");
 * ```
 */
export function execve(
  path: string,
  argv: string[],
  env: Record<string, string>,
): never {
  const call = `execve(${path})`;
  const pathC = cString(path);
  if (pathC === undefined) throw errnoError(call, EINVAL);
  const args = cStringArray(call, argv);
  const vars = cStringArray(
    call,
    Object.entries(env).map(([key, value]) => `${key}=${value}`),
  );
  const { symbols } = libc();
  // The Rust runtime ignores SIGPIPE, and an ignored signal stays ignored
  // across exec: give the new program the default (die on a broken pipe)
  // and put Deno's setting back if the exec fails.
  const previous = symbols.signal(SIGPIPE, null);
  symbols.execve(pathC, args.array, vars.array);
  const code = errno();
  symbols.signal(SIGPIPE, previous);
  throw errnoError(call, code);
}

/**
 * Finds the file execvp(3) would run for a command name.
 *
 * @param name A command name; one containing a slash is taken as a path.
 * @param path A PATH value (colon-separated; an empty entry means the current directory); undefined uses "/bin:/usr/bin" as glibc does.
 * @returns The path of the first executable regular file found, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveExecutable } from "./process.ts";
 * assert.equal(resolveExecutable("sh", "/usr/bin:/bin"), "/usr/bin/sh");
 * ```
 */
export function resolveExecutable(
  name: string,
  path: string | undefined,
): string | undefined {
  if (name === "") return undefined;
  if (name.includes("/")) return name;
  for (const dir of (path ?? "/bin:/usr/bin").split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // Missing or unreadable: keep searching, as execvp does.
    }
  }
  return undefined;
}
