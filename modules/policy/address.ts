/**
 * Client addresses as credential 128 carries them: parsed strictly as IPv4
 * or IPv6 text (anything else is junk, never printed or used as a key),
 * the penalty's per-address key (IPv6 per /64), and CIDR lists of trusted
 * networks.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";

/** An IP address as 4 or 16 bytes. */
export interface IpAddress {
  /** 4 for IPv4, 6 for IPv6. */
  family: 4 | 6;
  /** The address bytes, network order. */
  bytes: Uint8Array;
}

/** A network: an address and how many leading bits of it count. */
export interface Network {
  /** The network's address. */
  address: IpAddress;
  /** The prefix length. */
  bits: number;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // Decimal only, no leading zeros (inet_aton's octal is a trap).
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text)) return undefined;
  let head = text;
  let v4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".") >= 0) {
    v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => part === "" ? [] : part.split(":");
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [
    ...left,
    ...Array(8 - total).fill("0"),
    ...right,
  ];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(words[i])) return undefined;
    const n = parseInt(words[i], 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

/**
 * Parses an IPv4 (dotted decimal) or IPv6 address; an IPv4-mapped IPv6
 * address (`::ffff:192.0.2.1`) is the IPv4 address. No zone, no port, no
 * brackets, no leading zeros in IPv4.
 *
 * @param text The address text.
 * @returns The address, or undefined for anything else.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIp } from "./address.ts";
 * assert.equal(parseIp("192.0.2.1")?.family, 4);
 * assert.equal(parseIp("::ffff:192.0.2.1")?.family, 4);
 * assert.equal(parseIp("2001:db8::1")?.family, 6);
 * assert.equal(parseIp("192.0.2.1\n- root"), undefined);
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  if (v6 === undefined) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) &&
    v6[10] === 0xff && v6[11] === 0xff;
  if (mapped) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

/**
 * The penalty's key for an address: the IPv4 address, or the /64 an IPv6
 * address is in (one host usually has a whole /64).
 *
 * @param address The address.
 * @returns E.g. "192.0.2.1" or "2001:db8:0:1::/64".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIp, penaltyAddressKey } from "./address.ts";
 * assert.equal(penaltyAddressKey(parseIp("2001:db8:0:1:aaaa::1")!), "2001:db8:0:1::/64");
 * ```
 */
export function penaltyAddressKey(address: IpAddress): string {
  if (address.family === 4) return address.bytes.join(".");
  const b = address.bytes;
  const words: string[] = [];
  for (let i = 0; i < 8; i += 2) {
    words.push(((b[i] << 8) | b[i + 1]).toString(16));
  }
  return `${words.join(":")}::/64`;
}

/**
 * Parses a list of networks (`192.0.2.0/24 2001:db8::/32 10.1.2.3`),
 * separated by commas or white space; a bare address is one host.
 *
 * @param text The list.
 * @param variable The variable it came from, for the error.
 * @returns The networks.
 * @throws {CvmError} CONFIG naming the variable, for an entry that is not a network.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNetworks } from "./address.ts";
 * assert.equal(parseNetworks("192.0.2.0/24, ::1", "CVM_PENALTY_TRUSTED").length, 2);
 * ```
 */
export function parseNetworks(text: string, variable: string): Network[] {
  const out: Network[] = [];
  for (const item of text.split(/[\s,]+/)) {
    if (item === "") continue;
    const [host, bitsText, ...rest] = item.split("/");
    const address = parseIp(host);
    const max = address?.family === 4 ? 32 : 128;
    const bits = bitsText === undefined
      ? max
      : /^[0-9]{1,3}$/.test(bitsText)
      ? Number(bitsText)
      : NaN;
    if (address === undefined || rest.length > 0 || !(bits <= max)) {
      throw new CvmError(
        ErrorCode.CONFIG,
        `$${variable}: not an address or network: ${item}`,
      );
    }
    // An IPv4-mapped network counts in IPv4 bits.
    const mappedBits = address.family === 4 && host.includes(":")
      ? bits - 96
      : bits;
    if (mappedBits < 0) {
      throw new CvmError(
        ErrorCode.CONFIG,
        `$${variable}: not an address or network: ${item}`,
      );
    }
    out.push({ address, bits: mappedBits });
  }
  return out;
}

/**
 * Whether an address is in one of the networks.
 *
 * @param address The address.
 * @param networks The networks.
 * @returns True when one contains it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inNetworks, parseIp, parseNetworks } from "./address.ts";
 * assert.equal(inNetworks(parseIp("192.0.2.9")!, parseNetworks("192.0.2.0/24", "X")), true);
 * ```
 */
export function inNetworks(
  address: IpAddress,
  networks: readonly Network[],
): boolean {
  return networks.some((net) => {
    if (net.address.family !== address.family) return false;
    const full = net.bits >> 3;
    for (let i = 0; i < full; i++) {
      if (net.address.bytes[i] !== address.bytes[i]) return false;
    }
    const rest = net.bits & 7;
    if (rest === 0) return true;
    const mask = (0xff << (8 - rest)) & 0xff;
    return (net.address.bytes[full] & mask) === (address.bytes[full] & mask);
  });
}
