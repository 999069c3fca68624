/**
 * A qmail tree for tests, built in a temporary directory: control files,
 * users/cdb, home directories of fresh system users (created with useradd
 * and removed afterwards), vmailmgr password files; and the comparison of
 * our modules with Debian's on it.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import { makeCdb } from "../../../modules/cdb/writer.ts";
import { dist, REF, run, type RunResult } from "../../_helpers.ts";

/** Where Debian's cvm programs are. */
export { REF };

const encoder = new TextEncoder();

/** Whether the tests can run here: root, useradd, the reference and tinycdb. */
export function canRunQmailTests(modules: string[] = ["cvm-qmail"]): boolean {
  const need = [
    "/usr/sbin/useradd",
    "/usr/bin/cdb",
    `${REF}/cvm-testclient`,
    ...modules.map((m) => `${REF}/${m}`),
  ];
  const missing = need.filter((p) => {
    try {
      Deno.statSync(p);
      return false;
    } catch {
      return true;
    }
  });
  if (Deno.uid() !== 0) missing.push("root");
  if (missing.length === 0) return true;
  if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") {
    throw new Error(`missing for the qmail tests: ${missing.join(", ")}`);
  }
  console.log(`skip: missing ${missing.join(", ")}`);
  return false;
}

/** A cdb record given as text; "\0" may appear in it. */
export type TextRecord = readonly [string | Uint8Array, string | Uint8Array];

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/**
 * Writes a cdb with our writer, after checking that tinycdb's `cdb -c`
 * makes the same bytes from the same records.
 *
 * @param path The file.
 * @param records The records.
 */
export async function writeCdbChecked(
  path: string,
  records: readonly TextRecord[],
): Promise<void> {
  const ours = makeCdb(records.map(([k, d]) => [bytesOf(k), bytesOf(d)]));
  const parts: Uint8Array[] = [];
  for (const [k, d] of records) {
    const key = bytesOf(k);
    const data = bytesOf(d);
    parts.push(encoder.encode(`+${key.length},${data.length}:`));
    parts.push(key, encoder.encode("->"), data, encoder.encode("\n"));
  }
  parts.push(encoder.encode("\n"));
  const input = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    input.set(p, at);
    at += p.length;
  }
  const tiny = `${path}.tinycdb`;
  const out = await run("/usr/bin/cdb", ["-c", tiny], { stdin: input });
  if (out.code !== 0) throw new Error(`cdb -c failed: ${out.stderr}`);
  const theirs = Deno.readFileSync(tiny);
  Deno.removeSync(tiny);
  deepStrictEqual(ours, theirs, `our cdb of ${path} differs from tinycdb's`);
  Deno.writeFileSync(path, ours);
}

async function sh(cmd: string, args: string[]): Promise<RunResult> {
  return await run(cmd, args);
}

/** A system user made for a fixture. */
export interface FixtureUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * A qmail root with its users, removed by `cleanup()`.
 */
export class QmailFixture {
  /** The temporary directory (also `$QMAIL_ROOT`). */
  readonly root: string;
  /** A short random tag used in user names. */
  readonly tag: string;
  readonly #users: string[] = [];
  #createdAlias = false;

  private constructor(root: string, tag: string) {
    this.root = root;
    this.tag = tag;
  }

  /**
   * Makes the directory tree (control/, users/, home/).
   *
   * @returns The fixture.
   */
  static create(): QmailFixture {
    const root = Deno.makeTempDirSync({ prefix: "cvm-qmail-" });
    Deno.chmodSync(root, 0o755);
    for (const dir of ["control", "users", "home"]) {
      Deno.mkdirSync(`${root}/${dir}`);
    }
    const tag = Array.from(
      crypto.getRandomValues(new Uint8Array(3)),
      (b) => (b % 26 + 10).toString(36),
    ).join("");
    return new QmailFixture(root, tag);
  }

  /** The environment pointing the modules at this tree. */
  get env(): Record<string, string> {
    return { QMAIL_ROOT: this.root };
  }

  /**
   * Creates a system user whose home is under the fixture.
   *
   * @param name The login name.
   * @param options The home (default `home/<name>`), whether to create it.
   * @returns Its name, ids and home.
   */
  async addUser(
    name: string,
    options: { home?: string; makeHome?: boolean; gecos?: string } = {},
  ): Promise<FixtureUser> {
    const home = options.home ?? `${this.root}/home/${name}`;
    await sh("userdel", [name]); // a leftover of an interrupted run
    const out = await sh("useradd", [
      "-M",
      "-d",
      home,
      "-s",
      "/bin/false",
      "-c",
      options.gecos ?? "",
      name,
    ]);
    if (out.code !== 0) throw new Error(`useradd ${name}: ${out.stderr}`);
    this.#users.push(name);
    const id = await sh("id", ["-u", name]);
    const gid = await sh("id", ["-g", name]);
    const user = {
      name,
      uid: Number(id.stdout.trim()),
      gid: Number(gid.stdout.trim()),
      home,
    };
    if (options.makeHome ?? true) {
      Deno.mkdirSync(home, { recursive: true });
      Deno.chownSync(home, user.uid, user.gid);
    }
    return user;
  }

  /**
   * Makes sure the qmail `alias` user exists (removed at cleanup only if
   * this fixture made it).
   *
   * @returns The alias user.
   */
  async ensureAlias(): Promise<FixtureUser> {
    const id = await sh("id", ["-u", "alias"]);
    if (id.code === 0) {
      const pw = (await sh("getent", ["passwd", "alias"])).stdout.split(":");
      return {
        name: "alias",
        uid: Number(pw[2]),
        gid: Number(pw[3]),
        home: pw[5],
      };
    }
    const home = `${this.root}/home/alias`;
    const out = await sh("useradd", [
      "-M",
      "-d",
      home,
      "-s",
      "/bin/false",
      "alias",
    ]);
    if (out.code !== 0) throw new Error(`useradd alias: ${out.stderr}`);
    this.#createdAlias = true;
    const user = await this.#describe("alias", home);
    Deno.mkdirSync(home, { recursive: true });
    Deno.chownSync(home, user.uid, user.gid);
    return user;
  }

  async #describe(name: string, home: string): Promise<FixtureUser> {
    const uid = Number((await sh("id", ["-u", name])).stdout.trim());
    const gid = Number((await sh("id", ["-g", name])).stdout.trim());
    return { name, uid, gid, home };
  }

  /**
   * Writes (or with undefined, removes) a control file.
   *
   * @param name E.g. "locals".
   * @param text The contents.
   */
  control(name: string, text: string | undefined): void {
    const path = `${this.root}/control/${name}`;
    if (text === undefined) {
      Deno.removeSync(path, { recursive: true });
    } else {
      // A new inode each time, so a running server sees the change even
      // within the same millisecond.
      Deno.writeFileSync(`${path}.new`, encoder.encode(text));
      Deno.renameSync(`${path}.new`, path);
    }
  }

  /**
   * Writes users/cdb from records (checked against tinycdb), or removes it.
   *
   * @param records The records, undefined to remove the file.
   */
  async usersCdb(records: readonly TextRecord[] | undefined): Promise<void> {
    const path = `${this.root}/users/cdb`;
    if (records === undefined) {
      Deno.removeSync(path, { recursive: true });
      return;
    }
    await writeCdbChecked(`${path}.new`, records);
    Deno.renameSync(`${path}.new`, path);
  }

  /**
   * Removes every system user made by this fixture and the tree.
   */
  async cleanup(): Promise<void> {
    for (const name of this.#users) await sh("userdel", [name]);
    if (this.#createdAlias) await sh("userdel", ["alias"]);
    Deno.removeSync(this.root, { recursive: true });
  }
}

/**
 * A users/cdb exact record (`=local:user:uid:gid:home:dash:ext:`).
 *
 * @returns The key and data.
 */
export function usersExact(
  local: string,
  user: FixtureUser | {
    name: string;
    uid: number | string;
    gid: number | string;
    home: string;
  },
  dash = "",
  ext = "",
): TextRecord {
  return [
    `!${local}\0`,
    `${user.name}\0${user.uid}\0${user.gid}\0${user.home}\0${dash}\0${ext}\0`,
  ];
}

/**
 * A users/cdb wildcard record (`+prefix:user:uid:gid:home:dash:pre:`), the
 * data without its final NUL so the rest of the address extends `pre`.
 *
 * @returns The key and data.
 */
export function usersWild(
  prefix: string,
  user: FixtureUser,
  dash = "-",
  pre = "",
): TextRecord {
  return [
    `!${prefix}`,
    `${user.name}\0${user.uid}\0${user.gid}\0${user.home}\0${dash}\0${pre}`,
  ];
}

/** What a client run printed. */
export interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

function outcome(r: RunResult, program: string): Outcome {
  return {
    stdout: r.stdout,
    // "cvm-testclient: …" from either client; paths of the module differ.
    stderr: r.stderr.replaceAll(`${program}:`, "CLIENT:"),
    code: r.code,
  };
}

/**
 * Runs the reference testclient with the reference module and with ours,
 * and our testclient with our module; all three must print the same.
 *
 * @param module E.g. "cvm-qmail".
 * @param args Account, domain, optional password.
 * @param env The environment for the client and module.
 * @returns The reference's outcome.
 */
export async function compareModules(
  module: string,
  args: string[],
  env: Record<string, string>,
  options: CompareOptions = {},
): Promise<Outcome> {
  return await compareChains([module], args, env, options);
}

/** What to compare besides our module under the reference's client. */
export interface CompareOptions {
  /**
   * Also run our client (default true). Off where the reference client
   * accepts what ours refuses (ids beyond 32 bits).
   */
  ourClient?: boolean;
}

/**
 * As {@link compareModules} for a chain of modules (each name resolved in
 * the reference's directory or ours).
 *
 * @param modules The module names, e.g. ["cvm-pwfile", "cvm-vmailmgr"].
 * @param args Account, domain, optional password.
 * @param env The environment.
 * @returns The reference's outcome.
 */
export async function compareChains(
  modules: string[],
  args: string[],
  env: Record<string, string>,
  options: CompareOptions = {},
): Promise<Outcome> {
  const chain = (dir: string) => modules.map((m) => `${dir}/${m}`).join(",");
  const ref = outcome(
    await run(`${REF}/cvm-testclient`, [chain(REF), ...args], { env }),
    "cvm-testclient",
  );
  const oursWithRefClient = outcome(
    await run(`${REF}/cvm-testclient`, [chain(dist), ...args], { env }),
    "cvm-testclient",
  );
  const what = `${modules.join(",")} ${JSON.stringify(args)} ${
    JSON.stringify(env)
  }`;
  deepStrictEqual(oursWithRefClient, ref, `our module differs: ${what}`);
  if (options.ourClient ?? true) {
    const oursWithOurClient = outcome(
      await run(`${dist}/cvm-testclient`, [chain(dist), ...args], { env }),
      "cvm-testclient",
    );
    deepStrictEqual(
      oursWithOurClient,
      ref,
      `our client+module differ: ${what}`,
    );
  }
  return ref;
}

/** Fields of a vmailmgr entry for the tests' own encoder. */
export interface EntrySpec {
  format?: 1 | 2;
  flags?: Array<[number, number]>;
  password: string;
  mailbox?: string;
  forwards?: string[];
  personal?: string;
  numbers?: string[];
}

/**
 * Encodes an entry the way vmailmgr writes them (independently of the
 * module's encoder).
 *
 * @param spec The fields.
 * @returns The record data.
 */
export function entry(spec: EntrySpec): Uint8Array {
  const format = spec.format ?? 2;
  const head = format === 2 ? [2, ...(spec.flags ?? []).flat(), 0] : [1];
  const fields = [
    spec.password,
    spec.mailbox ?? "./users/x",
    ...(spec.forwards ?? []),
    "",
    spec.personal ?? "",
    ...(spec.numbers ?? ["-", "-", "-", "-", "1234567890", "-"]),
  ];
  const body = encoder.encode(fields.map((f) => `${f}\0`).join(""));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
