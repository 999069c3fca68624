/**
 * The testclient's report of facts, laid out exactly as the reference's.
 *
 * @module
 */

import type { ClientFacts } from "../protocol/mod.ts";

/**
 * Formats facts as `cvm-testclient` prints them, `(null)` for absent ones,
 * then one `supp. group ID:` line per supplementary group.
 *
 * @param facts The facts of a successful validation.
 * @returns The report, ending in a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFacts } from "./report.ts";
 * assert.equal(formatFacts({ all: [], username: "bob" }).split("\n")[0], "user name:        bob");
 * ```
 */
export function formatFacts(facts: ClientFacts): string {
  const show = (v: string | number | undefined) =>
    v === undefined ? "(null)" : String(v);
  const lines = [
    `user name:        ${show(facts.username)}`,
    `user ID:          ${show(facts.userid)}`,
    `group ID:         ${show(facts.groupid)}`,
    `real name:        ${show(facts.realname)}`,
    `directory:        ${show(facts.directory)}`,
    `shell:            ${show(facts.shell)}`,
    `group name:       ${show(facts.groupname)}`,
    `system user name: ${show(facts.sysUsername)}`,
    `system directory: ${show(facts.sysDirectory)}`,
    `domain:           ${show(facts.domain)}`,
    `mailbox path:     ${show(facts.mailbox)}`,
  ];
  for (const gid of facts.suppGroupids ?? []) {
    lines.push(`supp. group ID:   ${gid}`);
  }
  return lines.join("\n") + "\n";
}
