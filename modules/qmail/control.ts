/**
 * qmail's control files as the reference reads them: `control/locals`,
 * `control/virtualdomains`, and the default host of an address without a
 * domain (`control/envnoathost`, else `control/me`). Each is re-read when it
 * changes, so a server-mode module follows edits without a restart.
 *
 * @module
 */

import {
  asciiLower,
  CvmError,
  ErrorCode,
  toExactText,
} from "../../protocol/mod.ts";
import { CachedFile, type FileRead } from "../file_cache/mod.ts";

const SPACE = " \t\n\v\f\r";

/** Trims C `isspace` characters from both ends. */
function trimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && SPACE.includes(text[start])) start++;
  while (end > start && SPACE.includes(text[end - 1])) end--;
  return text.slice(start, end);
}

/**
 * Parses `control/locals`: one domain a line, surrounding white space
 * trimmed, lower-cased; blank lines ignored.
 *
 * @param text The file's contents.
 * @returns The set of local domains.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLocals } from "./control.ts";
 * assert.equal(parseLocals(" Example.COM \nlocalhost\n").has("example.com"), true);
 * ```
 */
export function parseLocals(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const domain = trimSpace(line);
    if (domain !== "") out.add(asciiLower(domain));
  }
  return out;
}

/**
 * Parses `control/virtualdomains`: `domain:prefix` a line (the line trimmed
 * of surrounding white space, split at its first colon, the domain
 * lower-cased, the prefix kept as written); lines without a colon are
 * ignored and the first line for a domain wins.
 *
 * @param text The file's contents.
 * @returns Domain (or `.suffix`) → prefix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVirtualdomains } from "./control.ts";
 * assert.equal(parseVirtualdomains(".Example.com:vuser\n").get(".example.com"), "vuser");
 * ```
 */
export function parseVirtualdomains(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = trimSpace(raw);
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = asciiLower(line.slice(0, colon));
    if (!out.has(key)) out.set(key, line.slice(colon + 1));
  }
  return out;
}

/**
 * Finds a domain in a virtualdomains map as qmail does: the domain itself,
 * then each suffix starting at a dot, longest first (`.b.example.com`,
 * `.example.com`, `.com`).
 *
 * @param map The parsed virtualdomains.
 * @param domain The lower-cased domain.
 * @returns The matching key and its prefix, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findVirtualdomain, parseVirtualdomains } from "./control.ts";
 * assert.deepEqual(findVirtualdomain(parseVirtualdomains(".example.com:v\n"), "a.example.com"), { key: ".example.com", prefix: "v" });
 * ```
 */
export function findVirtualdomain(
  map: Map<string, string>,
  domain: string,
): { key: string; prefix: string } | undefined {
  const exact = map.get(domain);
  if (exact !== undefined) return { key: domain, prefix: exact };
  for (let i = domain.indexOf("."); i >= 0; i = domain.indexOf(".", i + 1)) {
    const key = domain.slice(i);
    const prefix = map.get(key);
    if (prefix !== undefined) return { key, prefix };
  }
  return undefined;
}

/** Any read failure of locals/virtualdomains counts as an empty file, as the reference does. */
function textOrEmpty(read: FileRead): string {
  return read.ok ? toExactText(read.bytes) : "";
}

/**
 * The first line of a one-line control file; undefined when the file is
 * missing or empty. Only the newline is removed (a carriage return or
 * spaces stay, as in the reference).
 */
function firstLine(read: FileRead, what: string): string | undefined {
  if (!read.ok) {
    if (read.missing) return undefined;
    throw new CvmError(ErrorCode.IO, `cannot read control/${what}`);
  }
  if (read.bytes.length === 0) return undefined;
  const text = toExactText(read.bytes);
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * The control files under a qmail root, each re-read when it changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmailControl } from "./control.ts";
 * const root = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${root}/control`);
 * Deno.writeTextFileSync(`${root}/control/locals`, "example.com\n");
 * const control = new QmailControl(root);
 * assert.equal(control.isLocal("example.com"), true);
 * assert.equal(control.isLocal("example.org"), false);
 * Deno.removeSync(root, { recursive: true });
 * ```
 */
export class QmailControl {
  readonly #locals: CachedFile<Set<string>>;
  readonly #virtualdomains: CachedFile<Map<string, string>>;
  readonly #envnoathost: CachedFile<string | undefined>;
  readonly #me: CachedFile<string | undefined>;

  /**
   * @param root The qmail root (`$QMAIL_ROOT`, default /var/qmail).
   */
  constructor(root: string) {
    const control = `${root}/control`;
    this.#locals = new CachedFile(
      `${control}/locals`,
      (r) => parseLocals(textOrEmpty(r)),
    );
    this.#virtualdomains = new CachedFile(
      `${control}/virtualdomains`,
      (r) => parseVirtualdomains(textOrEmpty(r)),
    );
    this.#envnoathost = new CachedFile(
      `${control}/envnoathost`,
      (r) => firstLine(r, "envnoathost"),
    );
    this.#me = new CachedFile(`${control}/me`, (r) => firstLine(r, "me"));
  }

  /**
   * Whether a domain is listed in `control/locals`.
   *
   * @param domain The lower-cased domain.
   * @returns True when local.
   */
  isLocal(domain: string): boolean {
    return this.#locals.get().has(domain);
  }

  /**
   * Finds a domain in `control/virtualdomains` (exact, then suffixes).
   *
   * @param domain The lower-cased domain.
   * @returns The matching key and prefix, or undefined.
   */
  virtualdomain(domain: string): { key: string; prefix: string } | undefined {
    return findVirtualdomain(this.#virtualdomains.get(), domain);
  }

  /**
   * The host for an address without a domain: the first line of
   * `control/envnoathost`, else of `control/me`, else the word
   * "envnoathost" (what the reference falls back to), lower-cased.
   *
   * @returns The domain.
   * @throws {CvmError} IO when one of the files exists but cannot be read.
   */
  envnoathost(): string {
    return asciiLower(
      this.#envnoathost.get() ?? this.#me.get() ?? "envnoathost",
    );
  }
}
