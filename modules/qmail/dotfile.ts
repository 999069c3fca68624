/**
 * The `.qmail` file qmail-local would use for an address, and what it
 * says: the `.qmail-ext` search with `-default` fallbacks, and the program
 * deliveries a lookaside list cares about.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import { isNotFound, isPermissionDenied } from "./files.ts";

/**
 * The names qmail-local tries for a dash and extension, in order: the
 * extension itself (dots become colons), then `-default` for each shorter
 * prefix ending in a dash, down to `.qmail-default`. No dash means only
 * `.qmail` (whose absence is the default delivery).
 *
 * @param dash "-" or "" (from the user lookup).
 * @param ext The extension.
 * @returns The file names to try.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dotfileCandidates } from "./dotfile.ts";
 * assert.deepEqual(dotfileCandidates("-", "a.b-c"), [".qmail-a:b-c", ".qmail-a:b-default", ".qmail-default"]);
 * ```
 */
export function dotfileCandidates(dash: string, ext: string): string[] {
  if (dash === "") return [".qmail"];
  const safe = ext.replaceAll(".", ":");
  const names = [`.qmail${dash}${safe}`];
  for (let i = safe.length; i >= 0; i--) {
    if (i === 0 || safe[i - 1] === "-") {
      names.push(`.qmail${dash}${safe.slice(0, i)}default`);
    }
  }
  return names;
}

/** How to treat a `.qmail` file that cannot be checked for lack of permission. */
export type PermissionPolicy = "temporary" | "reject";

/** What the `.qmail` search found. */
export type DotfileSearch =
  | { found: true; path: string }
  | { found: false; rejected: boolean };

/**
 * Finds the first existing candidate `.qmail` file (by `stat`: a missing
 * file, or a dangling link, is skipped; any other failure is a temporary
 * error, or a rejection for EACCES under the "reject" policy). A path that
 * is not UTF-8 counts as missing: Deno names files by text and would look
 * for U+FFFD in place of each invalid byte, one file for many addresses.
 *
 * @param home The home directory.
 * @param names The candidates from {@link dotfileCandidates}.
 * @param onDenied What EACCES means.
 * @returns The file found, or none.
 * @throws {CvmError} IO when a candidate cannot be checked.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dotfileCandidates, findDotfile } from "./dotfile.ts";
 * const home = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${home}/.qmail-default`, "./Maildir/\n");
 * const found = findDotfile(home, dotfileCandidates("-", "list"), "temporary");
 * Deno.removeSync(home, { recursive: true });
 * assert.equal(found.found, true);
 * ```
 */
export function findDotfile(
  home: string,
  names: readonly string[],
  onDenied: PermissionPolicy,
): DotfileSearch {
  for (const name of names) {
    const path = `${home}/${name}`;
    if (!path.isWellFormed()) continue;
    try {
      Deno.statSync(path);
      return { found: true, path };
    } catch (e) {
      if (isNotFound(e)) continue;
      if (isPermissionDenied(e) && onDenied === "reject") {
        return { found: false, rejected: true };
      }
      throw new CvmError(ErrorCode.IO, `cannot check ${name}`);
    }
  }
  return { found: false, rejected: false };
}

const SPACE = " \t\n\v\f\r";

/**
 * Splits `$CVM_QMAIL_LOOKASIDE` into program names (separated by spaces).
 *
 * @param value The variable's value.
 * @returns The names.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLookaside } from "./dotfile.ts";
 * assert.deepEqual(parseLookaside(" vdeliver  /usr/bin/vchkpw "), ["vdeliver", "/usr/bin/vchkpw"]);
 * ```
 */
export function parseLookaside(value: string): string[] {
  return value.split(" ").filter((name) => name !== "");
}

/**
 * The programs a `.qmail` file delivers to: for each line that starts
 * (after white space) with `|`, the first word of the command.
 *
 * @param text The file's contents.
 * @returns The program words, in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliveryPrograms } from "./dotfile.ts";
 * assert.deepEqual(deliveryPrograms("./Maildir/\n| /usr/bin/vdeliver -q\n"), ["/usr/bin/vdeliver"]);
 * ```
 */
export function deliveryPrograms(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    let i = 0;
    while (i < line.length && SPACE.includes(line[i])) i++;
    if (line[i] !== "|") continue;
    i++;
    while (i < line.length && SPACE.includes(line[i])) i++;
    let end = i;
    while (end < line.length && !SPACE.includes(line[end])) end++;
    out.push(line.slice(i, end));
  }
  return out;
}

/**
 * Reads a `.qmail` file and tells whether it delivers to one of the
 * lookaside programs (compared as written, without path lookup).
 *
 * @param path The file (a missing one delivers to nothing).
 * @param lookaside The program names.
 * @returns True when one of them is a delivery of the file.
 * @throws {CvmError} IO when the file exists but cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliversToLookaside } from "./dotfile.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "| vdeliver -q\n");
 * assert.equal(deliversToLookaside(path, ["vdeliver"]), true);
 * assert.equal(deliversToLookaside(path, ["/usr/bin/vdeliver"]), false); // as written
 * Deno.removeSync(path);
 * ```
 */
export function deliversToLookaside(
  path: string,
  lookaside: readonly string[],
): boolean {
  let text: string;
  try {
    text = new TextDecoder().decode(Deno.readFileSync(path));
  } catch (e) {
    if (isNotFound(e)) return false;
    throw new CvmError(ErrorCode.IO, `cannot read ${path}`);
  }
  return deliveryPrograms(text).some((p) => lookaside.includes(p));
}
