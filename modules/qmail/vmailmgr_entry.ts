/**
 * vmailmgr's virtual user entries (the values of `passwd.cdb`), read and
 * written byte for byte as the reference does, and the path merge that
 * turns an entry's mailbox into a directory.
 *
 * Format 2: byte 2, (flag, value) byte pairs ended by a 0 flag (flag 10
 * has-mailbox, flag 8 mailbox-enabled; any other flag is an error), then
 * NUL-terminated password, mailbox, forwards (each NUL-terminated, the
 * list ended by an empty one), personal name, and six numbers (hard quota,
 * soft quota, message size limit, message count limit, creation time,
 * expiry), each decimal or `-` for none; nothing may follow.
 * Format 1: byte 1 and the same fields without flags.
 * The old format: `:password:mailbox`.
 *
 * @module
 */

import { toExactText } from "../../protocol/mod.ts";

/** Number of the has-mailbox flag. */
export const FLAG_HAS_MAILBOX = 10;
/** Number of the mailbox-enabled flag. */
export const FLAG_MAILBOX_ENABLED = 8;

/** "No value" of a number field (written as `-`). */
const UNSET = 0xffffffff;

/**
 * One decoded entry. Its text fields are byte strings (one character per
 * byte, code 0–255), so that writing an entry back reproduces bytes that
 * are not UTF-8 (an ISO-8859-1 personal name, say) exactly; see
 * {@link byteString} and {@link byteStringBytes}.
 */
export interface VmailmgrEntry {
  /** 0 for the old `:pass:mailbox` format, else 1 or 2. */
  format: 0 | 1 | 2;
  /** The stored password: `$0$plain`, `$1$…` MD5-crypt, or a crypt hash. */
  password: string;
  /** The mailbox directory, relative to the domain's home or absolute. */
  mailbox: string;
  /** Forwarding addresses. */
  forwards: string[];
  /** The personal name. */
  personal: string;
  /** The six numbers; 0xffffffff means none (`-`). */
  numbers: number[];
  /** Raw value of flag 10, when present. */
  hasMailboxFlag?: number;
  /** Raw value of flag 8, when present. */
  enabledFlag?: number;
}

/**
 * Turns bytes into a byte string (one character per byte).
 *
 * @param bytes The bytes.
 * @returns The byte string.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteString } from "./vmailmgr_entry.ts";
 * assert.equal(byteString(new Uint8Array([0x4a, 0xfc])), "J\u00fc");
 * ```
 */
export function byteString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return out;
}

/**
 * Turns a byte string back into its bytes.
 *
 * @param text A byte string (characters 0–255).
 * @returns The bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteStringBytes } from "./vmailmgr_entry.ts";
 * assert.deepEqual(byteStringBytes("J\u00fc"), new Uint8Array([0x4a, 0xfc]));
 * ```
 */
export function byteStringBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Reads a byte string as text (for facts, hashes and file names), bytes
 * that are not UTF-8 kept as `toExactText` keeps them, so that `toBytes`
 * gives the stored bytes back.
 *
 * @param text A byte string.
 * @returns The text it encodes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteStringText } from "./vmailmgr_entry.ts";
 * assert.equal(byteStringText("\u00c3\u00bc"), "ü");
 * ```
 */
export function byteStringText(text: string): string {
  return toExactText(byteStringBytes(text));
}

/** Parses a number field: "-" is none, "" is 0, digits wrap at 32 bits. */
function parseNumber(text: string): number | undefined {
  if (text === "-") return UNSET;
  if (!/^[0-9]*$/.test(text)) return undefined;
  let value = 0;
  for (const digit of text) value = (value * 10 + Number(digit)) % 0x100000000;
  return value;
}

/**
 * Decodes a passwd.cdb value.
 *
 * @param data The record's data.
 * @returns The entry, or undefined when it is malformed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntry } from "./vmailmgr_entry.ts";
 * assert.equal(decodeEntry(new TextEncoder().encode(":$0$pw:./users/bob"))?.mailbox, "./users/bob");
 * ```
 */
export function decodeEntry(data: Uint8Array): VmailmgrEntry | undefined {
  if (data.length === 0) return undefined;
  if (data[0] === 0x3a) { // ':' the old format, a C string
    const nul = data.indexOf(0);
    const text = byteString(data.subarray(1, nul < 0 ? data.length : nul));
    const colon = text.indexOf(":");
    if (colon < 0) return undefined;
    return {
      format: 0,
      password: text.slice(0, colon),
      mailbox: text.slice(colon + 1),
      forwards: [],
      personal: "",
      numbers: [UNSET, UNSET, UNSET, UNSET, UNSET, UNSET],
    };
  }
  if (data[0] !== 1 && data[0] !== 2) return undefined;
  const entry: VmailmgrEntry = {
    format: data[0],
    password: "",
    mailbox: "",
    forwards: [],
    personal: "",
    numbers: [],
  };
  let at = 1;
  if (entry.format === 2) {
    for (;;) {
      if (at >= data.length) return undefined;
      const flag = data[at++];
      if (flag === 0) break;
      if (at >= data.length) return undefined;
      const value = data[at++];
      if (flag === FLAG_HAS_MAILBOX) entry.hasMailboxFlag = value;
      else if (flag === FLAG_MAILBOX_ENABLED) entry.enabledFlag = value;
      else return undefined;
    }
  }
  const next = (): string | undefined => {
    const nul = data.indexOf(0, at);
    if (nul < 0) return undefined;
    const text = byteString(data.subarray(at, nul));
    at = nul + 1;
    return text;
  };
  const password = next();
  const mailbox = next();
  if (password === undefined || mailbox === undefined) return undefined;
  entry.password = password;
  entry.mailbox = mailbox;
  for (;;) {
    const forward = next();
    if (forward === undefined) return undefined;
    if (forward === "") break;
    entry.forwards.push(forward);
  }
  const personal = next();
  if (personal === undefined) return undefined;
  entry.personal = personal;
  for (let i = 0; i < 6; i++) {
    const text = next();
    const value = text === undefined ? undefined : parseNumber(text);
    if (value === undefined) return undefined;
    entry.numbers.push(value);
  }
  return at === data.length ? entry : undefined;
}

/**
 * Whether an entry's mailbox counts as enabled for
 * `$VMAILMGR_LOCK_DISABLED`: a format 2 entry only with a non-zero flag 8
 * (an entry without the flag is disabled, as with the reference); format
 * 1 and old entries always.
 *
 * @param entry The entry.
 * @returns True when enabled.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntry, isMailboxEnabled } from "./vmailmgr_entry.ts";
 * assert.equal(isMailboxEnabled(decodeEntry(new Uint8Array([2, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))!), true);
 * ```
 */
export function isMailboxEnabled(entry: VmailmgrEntry): boolean {
  if (entry.format !== 2) return true;
  return (entry.enabledFlag ?? 0) !== 0;
}

/**
 * Encodes an entry as the reference writes it back: format 2 with flag 10
 * (whether the mailbox is non-empty) and flag 8 (its value in the entry,
 * 0 when it had none, 1 for a format 1 entry), or the old format for an
 * old entry.
 *
 * @param entry The entry.
 * @returns The record data.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntry, encodeEntry } from "./vmailmgr_entry.ts";
 * const e = decodeEntry(new TextEncoder().encode(":$0$pw:./bob"))!;
 * assert.equal(new TextDecoder().decode(encodeEntry(e)), ":$0$pw:./bob");
 * ```
 */
export function encodeEntry(entry: VmailmgrEntry): Uint8Array {
  if (entry.format === 0) {
    return byteStringBytes(`:${entry.password}:${entry.mailbox}`);
  }
  const enabled = entry.format === 1 ? 1 : entry.enabledFlag ?? 0;
  const head = [
    2,
    FLAG_HAS_MAILBOX,
    entry.mailbox === "" ? 0 : 1,
    FLAG_MAILBOX_ENABLED,
    enabled,
    0,
  ];
  const fields = [
    entry.password,
    entry.mailbox,
    ...entry.forwards,
    "",
    entry.personal,
    ...entry.numbers.map((n) => n === UNSET ? "-" : String(n)),
  ];
  const body = byteStringBytes(fields.map((f) => `${f}\0`).join(""));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * Merges a mailbox path onto the domain's home as the reference does: an
 * absolute path starts again from `/`; `.` and empty components are
 * skipped; `..` cuts the path at its last slash; other components are
 * appended with one slash. The home itself is not normalized.
 *
 * @param home The domain's home directory.
 * @param mailbox The entry's mailbox.
 * @returns The mailbox directory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergePath } from "./vmailmgr_entry.ts";
 * assert.equal(mergePath("/home/v", "./users/bob/"), "/home/v/users/bob");
 * assert.equal(mergePath("/home/v", "../x"), "/home/x");
 * ```
 */
export function mergePath(home: string, mailbox: string): string {
  let path = home;
  let rest = mailbox;
  if (rest.startsWith("/")) {
    path = "/";
    rest = rest.slice(1);
  }
  for (const part of rest.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      const slash = path.lastIndexOf("/");
      path = slash < 0 ? "" : path.slice(0, slash);
      continue;
    }
    if (!path.endsWith("/")) path += "/";
    path += part;
  }
  return path;
}
