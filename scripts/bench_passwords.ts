/**
 * Password verification speed, scheme family by family: ours (the
 * registry, as a module server runs it: in process, Argon2 on a worker)
 * against Dovecot's `doveadm pw -t`, on the very same stored value, so
 * both sides pay the same cost parameters.
 *
 * doveadm starts a process per check. For the cheap families (digests,
 * CRAM-MD5, MD5-CRYPT) that start is nearly all it does, and the row
 * compares with checks per process, as an admin's script would run them.
 * For the costly ones (SHA512-CRYPT, BLF-CRYPT, PBKDF2, SCRAM, Argon2),
 * made at costs where a check takes tens of milliseconds or more, the
 * row compares with doveadm net of its start: its time on the value less
 * its time on a `{PLAIN}` one. That is Dovecot's own hashing (libsodium,
 * its crypt(3)) against ours.
 *
 * Each figure is the median of REPEATS runs, ours and doveadm's
 * alternating. Usage, alone (`deno task bench` runs it too):
 *
 *     deno run --allow-all scripts/bench_passwords.ts [--quick]
 *
 * Without doveadm (Debian's dovecot-core) it says so and skips.
 *
 * @module
 */

import {
  type HashParams,
  hashPassword,
  stopIdlePasswordWorkers,
  verifyPassword,
} from "../modules/passwords/mod.ts";
import { formatRate, renderTable, type Row } from "./_bench_table.ts";

const DOVEADM = "/usr/bin/doveadm";
const PASSWORD = "bench pässword";

/** One family: the scheme and cost of the value, a label, whether it is cheap. */
const FAMILIES: readonly {
  scheme: string;
  params?: HashParams;
  label: string;
  cheap?: boolean;
}[] = [
  { scheme: "SSHA512", label: "digest (SSHA512)", cheap: true },
  { scheme: "CRAM-MD5", label: "CRAM-MD5 context", cheap: true },
  { scheme: "MD5-CRYPT", label: "MD5-CRYPT", cheap: true },
  {
    scheme: "SHA512-CRYPT",
    params: { rounds: 100_000 },
    label: "SHA512-CRYPT (100,000 rounds)",
  },
  { scheme: "BLF-CRYPT", params: { rounds: 10 }, label: "BLF-CRYPT (cost 10)" },
  { scheme: "PBKDF2", params: { rounds: 100_000 }, label: "PBKDF2 (100,000)" },
  {
    scheme: "SCRAM-SHA-256",
    params: { rounds: 100_000 },
    label: "SCRAM-SHA-256 (100,000)",
  },
  { scheme: "ARGON2I", label: "ARGON2I (32 MiB, t=4)" },
  { scheme: "ARGON2ID", label: "ARGON2ID (64 MiB, t=3)" },
];

/** How long the runs last. */
interface Plan {
  /** Runs per figure (the median is reported). */
  repeats: number;
  /** Seconds a run of ours lasts at least. */
  oursSeconds: number;
  /** Seconds a run of doveadm's lasts at least. */
  doveadmSeconds: number;
}

const FULL: Plan = { repeats: 3, oursSeconds: 1, doveadmSeconds: 1.5 };
const QUICK: Plan = { repeats: 1, oursSeconds: 0.4, doveadmSeconds: 0.5 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function doveadm(args: string[]): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(DOVEADM, {
    args: ["pw", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return { code: result.code, out: new TextDecoder().decode(result.stdout) };
}

/** Seconds per `doveadm pw -t` of `hash`, over a run of `seconds`. */
async function doveadmSecondsPerCheck(
  hash: string,
  seconds: number,
): Promise<number> {
  const start = performance.now();
  let checks = 0;
  do {
    const { code } = await doveadm(["-t", hash, "-p", PASSWORD]);
    if (code !== 0) throw new Error(`doveadm pw -t refused ${hash}`);
    checks++;
  } while (performance.now() - start < seconds * 1000 || checks < 2);
  return (performance.now() - start) / 1000 / checks;
}

/** Seconds per check of ours (the registry, in process), over a run of `seconds`. */
async function oursSecondsPerCheck(
  hash: string,
  seconds: number,
): Promise<number> {
  const password = new TextEncoder().encode(PASSWORD);
  const start = performance.now();
  let checks = 0;
  do {
    if (!(await verifyPassword(hash, password))) {
      throw new Error(`ours refused ${hash}`);
    }
    checks++;
  } while (performance.now() - start < seconds * 1000 || checks < 2);
  return (performance.now() - start) / 1000 / checks;
}

/**
 * Measures every family.
 *
 * @param plan How long the runs last.
 * @returns One row per family, and one for doveadm's process start.
 */
export async function benchPasswords(plan: Plan = FULL): Promise<Row[]> {
  const plainHash = (await doveadm(["-s", "PLAIN", "-p", PASSWORD])).out.trim();
  const rows: Row[] = [];
  const starts: number[] = [];
  const password = new TextEncoder().encode(PASSWORD);
  const measured: {
    label: string;
    cheap?: boolean;
    ours: number;
    gross: number;
  }[] = [];
  try {
    for (const { scheme, params, label, cheap } of FAMILIES) {
      const hash = await hashPassword(scheme, password, params);
      await oursSecondsPerCheck(hash, 0); // loads the code, starts a worker
      const ours: number[] = [];
      const gross: number[] = [];
      for (let i = 0; i < plan.repeats; i++) {
        ours.push(await oursSecondsPerCheck(hash, plan.oursSeconds));
        starts.push(
          await doveadmSecondsPerCheck(plainHash, plan.doveadmSeconds / 2),
        );
        gross.push(await doveadmSecondsPerCheck(hash, plan.doveadmSeconds));
      }
      measured.push({ label, cheap, ours: median(ours), gross: median(gross) });
    }
    // One start time for all: the median of every {PLAIN} run.
    const start = median(starts);
    for (const { label, cheap, ours, gross } of measured) {
      const theirs = cheap ? gross : gross - start;
      rows.push({
        scenario: `verify ${label}, checks/s (doveadm ${
          cheap ? "per process" : "net of its start"
        })`,
        reference: theirs > 0 ? formatRate(1 / theirs) : "noise",
        ours: formatRate(1 / ours),
        ratio: theirs > 0 ? theirs / ours : undefined,
      });
    }
    rows.push({
      scenario: "doveadm pw -t {PLAIN}: its process start, checks/s",
      reference: formatRate(1 / start),
      ours: "",
    });
  } finally {
    await stopIdlePasswordWorkers();
  }
  return rows;
}

/**
 * The hook of `deno task bench`: the rows, or none (with a line saying
 * why) when doveadm is not installed.
 *
 * @returns The rows.
 */
export default async function runPasswordBench(): Promise<Row[]> {
  try {
    await Deno.stat(DOVEADM);
  } catch {
    console.log(
      `passwords bench: ${DOVEADM} is missing (dovecot-core); skipped`,
    );
    return [];
  }
  return await benchPasswords();
}

if (import.meta.main) {
  const plan = Deno.args.includes("--quick") ? QUICK : FULL;
  try {
    await Deno.stat(DOVEADM);
  } catch {
    console.log(
      `passwords bench: ${DOVEADM} is missing (dovecot-core); skipped`,
    );
    Deno.exit(0);
  }
  console.log(renderTable(await benchPasswords(plan)));
}
