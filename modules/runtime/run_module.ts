/**
 * The module runtime: from a program's arguments and environment to command,
 * local-socket or UDP serving of one backend. A backend file stays small.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import { FatalError, type Invocation, writeStderr } from "../../program.ts";
import { parseModuleAddress, parsePort } from "../../protocol/mod.ts";
import { type ModuleOptions, moduleOptionsFromEnv } from "./answer.ts";
import type { Policy, PolicyContext } from "../policy/mod.ts";
import type { Backend } from "./backend.ts";
import { serveCommand } from "./command_server.ts";
import { type RunningServer, startLocalServer } from "./local_server.ts";
import { stdoutLog } from "./log.ts";
import { startUdpServer } from "./udp_server.ts";
import { connectionCap, DEFAULT_MAX_IN_FLIGHT } from "./in_flight.ts";
import { describeError } from "./socket_trouble.ts";

/** Makes a backend from the environment; throws `CvmError(CONFIG)` naming the variable. */
export type BackendFactory = (
  env: Record<string, string | undefined>,
  context: BackendContext,
) => Backend<unknown> | Promise<Backend<unknown>>;

/** What a backend may want to know about how it will be used. */
export interface BackendContext {
  /** True in server modes: worth building indexes and keeping connections. */
  persistent: boolean;
}

/** How a module program was asked to serve. */
export type ServeMode =
  | { mode: "command" }
  | { mode: "local"; path: string }
  | { mode: "udp"; host: string; port: number };

/**
 * Works out the serving mode from the program name and arguments, with the
 * reference's usage errors (exit 1).
 *
 * @param base The module's base name, e.g. "cvm-pwfile".
 * @param invocation The name as invoked (may end in -local or -udp) and args.
 * @returns The mode.
 * @throws {FatalError} On incorrect usage.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServeMode } from "./run_module.ts";
 * assert.deepEqual(parseServeMode("cvm-pwfile", { name: "cvm-pwfile", args: ["cvm-local:/s"], env: {} }), { mode: "local", path: "/s" });
 * ```
 */
export function parseServeMode(
  base: string,
  invocation: Invocation,
): ServeMode {
  const { name, args } = invocation;
  if (name.endsWith("-local")) {
    if (args.length !== 1) {
      throw new FatalError(1, `usage: ${base}-local /PATH/TO/SOCKET`, base);
    }
    return { mode: "local", path: args[0] };
  }
  if (name.endsWith("-udp")) {
    const port = args.length === 2 ? parsePort(args[1]) : undefined;
    if (port === undefined) {
      throw new FatalError(1, `usage: ${base}-udp IP PORT`, base);
    }
    return { mode: "udp", host: args[0], port };
  }
  if (args.length === 0) return { mode: "command" };
  const usage = new FatalError(
    1,
    `Incorrect usage.\nusage: ${base} cvm-local:/path/to/socket\nor:    ${base} cvm-udp:hostname:port`,
  );
  if (args.length !== 1) throw usage;
  // The same module strings a client uses, read by the same parser.
  const address = parseModuleAddress(args[0]);
  if (address?.kind === "local" && address.path !== "") {
    return { mode: "local", path: address.path };
  }
  if (address?.kind === "udp") {
    return { mode: "udp", host: address.host, port: address.port };
  }
  throw usage;
}

/** Parses a variable as a decimal number of milliseconds, naming it on error. */
function parseTimeout(env: Record<string, string | undefined>): number {
  for (const name of ["CVM_LOCAL_TIMEOUT", "CVM_IO_TIMEOUT"]) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    if (!/^[0-9]+$/.test(value)) {
      throw new CvmError(ErrorCode.CONFIG, `$${name} is not a number of ms`);
    }
    return Number(value);
  }
  return 1000;
}

/** Resolves `$CVM_SOCKET_OWNER`/`$CVM_SOCKET_GROUP`, by number or by name. */
async function socketOwner(
  env: Record<string, string | undefined>,
): Promise<{ uid?: number; gid?: number }> {
  const out: { uid?: number; gid?: number } = {};
  const owner = env.CVM_SOCKET_OWNER;
  const group = env.CVM_SOCKET_GROUP;
  if (owner) {
    if (/^[0-9]+$/.test(owner)) out.uid = Number(owner);
    else {
      const { getpwnam } = await import("../../sys/mod.ts");
      const pw = getpwnam(owner);
      if (!pw) {
        throw new CvmError(
          ErrorCode.CONFIG,
          `$CVM_SOCKET_OWNER: no such user: ${owner}`,
        );
      }
      out.uid = pw.uid;
    }
  }
  if (group) {
    if (/^[0-9]+$/.test(group)) out.gid = Number(group);
    else {
      const { getgrnam } = await import("../../sys/mod.ts");
      const gr = getgrnam(group);
      if (!gr) {
        throw new CvmError(
          ErrorCode.CONFIG,
          `$CVM_SOCKET_GROUP: no such group: ${group}`,
        );
      }
      out.gid = gr.gid;
    }
  }
  return out;
}

/** Reads `$CVM_MAX_IN_FLIGHT`, a positive decimal number. */
function parseMaxInFlight(env: Record<string, string | undefined>): number {
  const text = env.CVM_MAX_IN_FLIGHT;
  if (text === undefined || text === "") return DEFAULT_MAX_IN_FLIGHT;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1) {
    throw new CvmError(
      ErrorCode.CONFIG,
      "$CVM_MAX_IN_FLIGHT is not a positive number",
    );
  }
  return Number(text);
}

/**
 * Raises the soft open-file limit to the hard one and returns the limit in
 * force (Infinity when it cannot be read).
 */
async function raiseFileLimit(): Promise<number> {
  try {
    const { raiseOpenFileLimit } = await import("../../sys/mod.ts");
    return raiseOpenFileLimit();
  } catch {
    return Infinity;
  }
}

function socketMode(env: Record<string, string | undefined>): number {
  const text = env.CVM_SOCKET_MODE;
  if (text === undefined || text === "") return 0o777;
  if (!/^[0-7]{1,4}$/.test(text)) {
    throw new CvmError(ErrorCode.CONFIG, "$CVM_SOCKET_MODE is not octal");
  }
  return parseInt(text, 8);
}

/**
 * Builds the policy layers (`modules/policy`), loaded only when one of
 * their variables is set, so a module without them starts as before.
 */
async function startPolicy(
  env: Record<string, string | undefined>,
  context: PolicyContext,
): Promise<Policy | undefined> {
  const named = Object.keys(env).some((name) =>
    /^CVM_(ACCESS|CACHE_|FAIL_DELAY|PENALTY|METRICS|REDIS_)/.test(name)
  );
  if (!named) return undefined;
  const { createPolicy } = await import("../policy/mod.ts");
  return await createPolicy(env, context);
}

/**
 * Runs a module program: command mode with no argument, a local-socket or
 * UDP server otherwise. A configuration error is reported on stderr naming
 * the variable; in command mode the request is still answered with its code.
 *
 * A server raises its soft open-file limit to the hard one, serves at most
 * `$CVM_MAX_IN_FLIGHT` requests at once (a local server fewer, if its
 * open-file limit asks for it), stops on SIGTERM or SIGINT, and on SIGHUP
 * has its backend forget what it read and opened (`reload`) and logs
 * `Reloading.`. If its socket fails it exits IO (non-zero), so that a
 * supervisor starts it again.
 *
 * @param base The module's base name, e.g. "cvm-pwfile".
 * @param factory Makes the backend from the environment.
 * @param invocation Name, arguments and environment.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runModule } from "./run_module.ts";
 * import { FatalError } from "../../program.ts";
 * const factory = () => Promise.resolve({
 *   lookup: () => Promise.resolve(undefined),
 *   authenticate: () => Promise.resolve(false),
 *   results: () => ({ username: "", userid: 0, groupid: 0, directory: "" }),
 * });
 * // Two arguments are a usage error: main.ts prints it and exits 1.
 * const invocation = { name: "cvm-x", args: ["a", "b"], env: {} };
 * await assert.rejects(runModule("cvm-x", factory, invocation),
 *   (e) => e instanceof FatalError && e.status === 1);
 * ```
 */
export async function runModule(
  base: string,
  factory: BackendFactory,
  invocation: Invocation,
): Promise<number> {
  const mode = parseServeMode(base, invocation);
  const env = invocation.env;
  const options: ModuleOptions = moduleOptionsFromEnv(env);
  const lookupMode = options.lookupSecret !== undefined;
  if (mode.mode === "command") {
    let backend: Backend<unknown>;
    // No log in command mode (stdout is the reply): Redis news goes to stderr.
    const say = (line: string) => writeStderr(`${base}: ${line}\n`);
    try {
      options.policy = await startPolicy(env, {
        mode: "command",
        program: base,
        lookupMode,
        log: say,
        warn: say,
      });
      backend = await factory(env, { persistent: false });
    } catch (e) {
      const code = e instanceof CvmError ? e.code : ErrorCode.GENERAL;
      writeStderr(`${base}: ${e instanceof Error ? e.message : e}\n`);
      backend = failingBackend(code, e instanceof Error ? e.message : "");
    }
    const code = await serveCommand(backend, options);
    await backend.close?.();
    await options.policy?.close();
    return code;
  }
  // Signal handlers go in before the socket exists: a SIGTERM right after
  // `Starting.` must still remove the socket and log `Stopping.`, and a
  // SIGHUP (whose default action is to end the process) never kills it.
  const log = stdoutLog();
  const warn = (line: string) => writeStderr(`${invocation.name}: ${line}\n`);
  let server: RunningServer | undefined;
  let backend: Backend<unknown> | undefined;
  let policy: Policy | undefined;
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
    void server?.stop();
  };
  const onHangup = () => {
    if (backend === undefined || stopRequested) return;
    // reload() forgets what it holds before its first await: once the line
    // is out, the next request reads and connects afresh. Each SIGHUP is
    // handled on its own, so one slow reload cannot hold up the next.
    const done = backend.reload?.();
    // The policy's cache empties too (a password changed, an account went).
    const emptied = policy?.reload();
    log("Reloading.");
    done?.catch((e) => warn(`reload: ${describeError(e)}`));
    emptied?.catch((e) => warn(`reload: ${describeError(e)}`));
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGHUP", onHangup);
  const removeListeners = () => {
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGHUP", onHangup);
  };
  try {
    const fileLimit = await raiseFileLimit();
    let maxInFlight: number;
    try {
      maxInFlight = parseMaxInFlight(env);
      policy = await startPolicy(env, {
        mode: mode.mode,
        program: base,
        lookupMode,
        log,
        warn,
      });
      options.policy = policy;
      backend = await factory(env, { persistent: true });
    } catch (e) {
      const code = e instanceof CvmError ? e.code : ErrorCode.IO;
      throw new FatalError(code, e instanceof Error ? e.message : String(e));
    }
    try {
      if (mode.mode === "local") {
        // Each connection holds a descriptor: stay below the limit, and
        // leave further clients in the kernel's backlog.
        const cap = connectionCap(fileLimit);
        if (maxInFlight > cap) {
          warn(
            `at most ${cap} connections at once under the open-file limit of ${fileLimit}`,
          );
          maxInFlight = cap;
        }
        server = startLocalServer(backend, {
          ...options,
          path: mode.path,
          mode: socketMode(env),
          ...(await socketOwner(env)),
          timeoutMs: parseTimeout(env),
          maxInFlight,
          log,
          warn,
        });
      } else {
        server = startUdpServer(backend, {
          ...options,
          host: mode.host,
          port: mode.port,
          maxInFlight,
          log,
          warn,
        });
      }
    } catch (e) {
      const code = e instanceof CvmError ? e.code : ErrorCode.IO;
      throw new FatalError(code, e instanceof Error ? e.message : String(e));
    }
    if (stopRequested) void server.stop();
    try {
      await server.finished;
    } catch (e) {
      // The socket failed without a stop: exit non-zero, so that a
      // supervisor (daemontools, systemd) starts the module again.
      throw new FatalError(
        ErrorCode.IO,
        `serving ended without a stop: ${describeError(e)}`,
      );
    }
    return 0;
  } finally {
    removeListeners();
    await policy?.close();
  }
}

/** A backend that answers every request with one temporary error. */
function failingBackend(code: number, message: string): Backend<unknown> {
  return {
    lookup: () => Promise.reject(new CvmError(code, message)),
    authenticate: () => Promise.resolve(false),
    results: () => {
      throw new CvmError(code, message);
    },
  };
}
