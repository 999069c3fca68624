/**
 * Helpers of the policy tests: a module in one contact mode (command,
 * local, udp) with an environment, and a client that asks it in-process
 * (our client library) and times the answer.
 *
 * @module
 */

import { authenticatePassword } from "../../../clients/mod.ts";
import {
  dist,
  ensureDist,
  freeUdpPort,
  type Server,
  startServer,
} from "../../_helpers.ts";

/** A contact mode. */
export type Mode = "command" | "local" | "udp";

/** Every contact mode. */
export const MODES: readonly Mode[] = ["command", "local", "udp"];

/** A module reachable in one mode. */
export interface Module {
  /** The module string a client uses. */
  address: string;
  /** The environment a client passes on (command mode: the module's). */
  env: Record<string, string>;
  /** The server (not in command mode). */
  server?: Server;
  /** Stops the server. */
  stop(): Promise<void>;
}

/**
 * Starts a module program in a mode.
 *
 * @param program E.g. "cvm-pwfile".
 * @param mode The contact mode.
 * @param env Its environment.
 * @param dir A directory for the socket.
 * @returns The module.
 */
export async function startModule(
  program: string,
  mode: Mode,
  env: Record<string, string>,
  dir: string,
): Promise<Module> {
  await ensureDist();
  const path = `${dist}/${program}`;
  if (mode === "command") {
    return {
      address: `cvm-command:${path}`,
      env: { ...Deno.env.toObject(), ...env },
      stop: () => Promise.resolve(),
    };
  }
  const address = mode === "local"
    ? `cvm-local:${dir}/${program}-${crypto.randomUUID().slice(0, 8)}.sock`
    : `cvm-udp:127.0.0.1:${await freeUdpPort()}`;
  const server = await startServer(path, [address], env);
  return {
    address,
    env: {},
    server,
    stop: async () => {
      await server.stop();
    },
  };
}

/** An answer and how long it took. */
export interface Asked {
  /** The result code. */
  code: number;
  /** Milliseconds from asking to the answer. */
  ms: number;
  /** The out-of-scope fact, if any. */
  outOfScope?: number;
  /** The username fact, if any. */
  username?: string;
}

/**
 * Asks a module once, in-process, as a client at `address` would.
 *
 * @param module The module.
 * @param account The account (split at @).
 * @param password The password.
 * @param address The client address sent as credential 128, if any.
 * @returns The answer.
 */
export async function ask(
  module: Module,
  account: string,
  password: string,
  address?: string,
): Promise<Asked> {
  const env: Record<string, string> = { ...module.env };
  if (address !== undefined) env.CVM_CLIENT_ADDRESS = address;
  const start = performance.now();
  const result = await authenticatePassword(
    module.address,
    { account, password },
    { env, udpWaitsMs: [5000] },
  );
  return {
    code: result.code,
    ms: performance.now() - start,
    outOfScope: result.facts.outOfScope,
    username: result.facts.username,
  };
}

/**
 * Waits until a server's log has a line matching, or fails.
 *
 * @param module The module (a server).
 * @param pattern The line.
 * @returns The line.
 */
export async function logged(module: Module, pattern: RegExp): Promise<string> {
  const line = await Promise.race([
    module.server!.waitFor(pattern),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)),
  ]);
  if (line === undefined) {
    throw new Error(
      `no log line ${pattern}; log:\n${module.server!.log.join("\n")}`,
    );
  }
  return line;
}

/**
 * A free TCP port on 127.0.0.1 (bound, read, released).
 *
 * @returns The port.
 */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
