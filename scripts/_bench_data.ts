/**
 * Account files for the benchmark, in /etc/passwd layout with plain
 * passwords (cvm-pwfile's default comparison).
 *
 * @module
 */

/** An account file and the account the benchmark validates in it. */
export interface BenchFile {
  /** The file's path. */
  path: string;
  /** How many accounts it holds. */
  accounts: number;
  /** The account to validate (the last: the reference's worst case). */
  account: string;
  /** Its password. */
  password: string;
}

function line(i: number): string {
  const name = `user${String(i).padStart(6, "0")}`;
  return `${name}:pw${i}:${
    10000 + (i % 50000)
  }:100:User ${i},,,:/home/${name}:/bin/sh\n`;
}

/**
 * Writes a passwd-format file of `accounts` accounts named `user000000`…
 * and picks the last one to validate, so a linear scan reads the whole
 * file (the reference's worst case).
 *
 * @param path Where to write it.
 * @param accounts How many accounts (at least 2).
 * @returns The file and the account to validate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeAccountFile } from "./_bench_data.ts";
 * const path = await Deno.makeTempFile();
 * const f = await writeAccountFile(path, 1000);
 * await Deno.remove(path);
 * assert.equal(f.account, "user000999");
 * ```
 */
export async function writeAccountFile(
  path: string,
  accounts: number,
): Promise<BenchFile> {
  const chunks: string[] = [];
  for (let i = 0; i < accounts; i++) chunks.push(line(i));
  await Deno.writeTextFile(path, chunks.join(""));
  const pick = accounts - 1;
  return {
    path,
    accounts,
    account: `user${String(pick).padStart(6, "0")}`,
    password: `pw${pick}`,
  };
}
