/**
 * Module strings: how a client names a module and how to reach it.
 *
 * @module
 */

/** Where a module is: a program to run, a Unix socket, or a UDP address. */
export type ModuleAddress =
  | { kind: "command"; path: string }
  | { kind: "local"; path: string }
  | { kind: "udp"; host: string; port: number };

/**
 * Parses one module string: `cvm-command:PATH` or a bare path,
 * `cvm-local:PATH`, `cvm-udp:HOST:PORT`. An invalid UDP address is undefined
 * (the reference answers GENERAL for it).
 *
 * @param text The module string.
 * @returns The address, or undefined when it cannot be used.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseModuleAddress } from "./module_address.ts";
 * assert.deepEqual(parseModuleAddress("cvm-udp:127.0.0.1:2000"), { kind: "udp", host: "127.0.0.1", port: 2000 });
 * ```
 */
export function parseModuleAddress(text: string): ModuleAddress | undefined {
  if (text.startsWith("cvm-local:")) {
    return { kind: "local", path: text.slice(10) };
  }
  if (text.startsWith("cvm-udp:")) {
    const rest = text.slice(8);
    const colon = rest.lastIndexOf(":");
    const port = colon > 0 ? parsePort(rest.slice(colon + 1)) : undefined;
    if (port === undefined) return undefined;
    let host = rest.slice(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    return { kind: "udp", host, port };
  }
  if (text.startsWith("cvm-command:")) {
    return { kind: "command", path: text.slice(12) };
  }
  return { kind: "command", path: text };
}

/**
 * Parses a decimal port number, 0–65535.
 *
 * @param text The digits.
 * @returns The port, or undefined when it is not one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePort } from "./module_address.ts";
 * assert.equal(parsePort("2000"), 2000);
 * ```
 */
export function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/**
 * Splits a comma-separated chain of module strings.
 *
 * @param text The module list.
 * @returns The module strings, in order, empty ones dropped.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitChain } from "./module_address.ts";
 * assert.deepEqual(splitChain("cvm-local:/a,/usr/bin/cvm-unix"), ["cvm-local:/a", "/usr/bin/cvm-unix"]);
 * ```
 */
export function splitChain(text: string): string[] {
  return text.split(",").filter((s) => s !== "");
}
