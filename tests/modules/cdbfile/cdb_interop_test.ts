/**
 * cvm-cdb against the reference's cvm-pwfile on the same accounts (the
 * cdb made by `cvm cdbpasswd import` of the passwd file): the reference's
 * cvm-testclient prints the same facts and exits with the same code, in
 * command, local and UDP modes. Then what only cvm-cdb does: domains,
 * Dovecot's extra fields, files tinycdb made, a store that changes.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  eventually,
  freeUdpPort,
  have,
  REF,
  run,
  type RunResult,
  SAMPLE_PASSWD,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";

const TESTCLIENT = `${REF}/cvm-testclient`;

/** A passwd file in crypt(3) form only: the reference compares one way per file. */
const CRYPT_PASSWD = [
  // "crypted", SHA-512, and "pw2", MD5.
  "carol:$6$saltsalt$jZBOucnQMcKhGbQ8vZvAkkJMkUei09muFmegadYhO80TBLAfV9YLmUcd87HmbJAN2V/Ut8IC1ByOvBKGGNab0.:1002:100:Carol,Room 2:/home/carol:/bin/bash",
  "Dave:$1$saltsalt$Xa0ph/FgJWdXZbigktEJ/.:1003:100::/home/dave:",
  "locked:!$1$saltsalt$Xa0ph/FgJWdXZbigktEJ/.:1004:100::/:",
  "",
].join("\n");

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  v1?: boolean;
  /** The code both must give, where it proves the case is what it says. */
  expect?: number;
}

const PLAIN_CASES: Case[] = [
  { name: "success", args: ["pwfuser", "", "secret"], expect: 0 },
  { name: "success with empty optional facts", args: ["bob", "", "pw2"] },
  { name: "case-insensitive account", args: ["BOB", "", "pw2"] },
  { name: "wrong password", args: ["pwfuser", "", "wrong"] },
  { name: "unknown user", args: ["nobody", "", "x"] },
  { name: "no password (NOCRED)", args: ["pwfuser", ""] },
  { name: "account split at @", args: ["bob@example.org", "", "pw2"] },
  { name: "explicit domain, ignored", args: ["bob", "example.org", "pw2"] },
  {
    name: "lookup mode with the right secret",
    args: ["bob", ""],
    env: { CVM_LOOKUP_SECRET: "s3cret" },
    expect: 0,
  },
  {
    name: "lookup mode unknown user",
    args: ["zed", ""],
    env: { CVM_LOOKUP_SECRET: "s3cret" },
  },
  { name: "v1 success", args: ["bob", "", "pw2"], v1: true, expect: 0 },
  { name: "v1 wrong password", args: ["bob", "", "bad"], v1: true },
];

const CRYPT_CASES: Case[] = [
  { name: "crypt: SHA-512 hash", args: ["carol", "", "crypted"], expect: 0 },
  { name: "crypt: MD5 hash, any case", args: ["DAVE", "", "pw2"], expect: 0 },
  { name: "crypt: wrong password", args: ["carol", "", "pw2"] },
  { name: "crypt: locked", args: ["locked", "", "pw2"] },
  { name: "crypt: unknown", args: ["zed", "", "pw2"] },
];

function outcome(r: RunResult) {
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** Makes the store with `cvm cdbpasswd import` and returns its path. */
async function importStore(passwd: string, dir: string, name: string) {
  const path = `${dir}/${name}.cdb`;
  const r = await run(`${dist}/cvm`, ["cdbpasswd", "-f", path, "import"], {
    stdin: new TextEncoder().encode(passwd),
  });
  assertEquals(r.code, 0, r.stderr);
  return path;
}

function client(v1: boolean): string {
  return `${REF}/${v1 ? "cvm-v1testclient" : "cvm-testclient"}`;
}

Deno.test("cvm-cdb answers as the reference's cvm-pwfile on the same accounts, in command, local and UDP modes", async (t) => {
  if (!have(TESTCLIENT) || !have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  const servers: Server[] = [];
  try {
    for (
      const [pwcmp, passwd, cases] of [
        ["plain", SAMPLE_PASSWD, PLAIN_CASES],
        ["crypt", CRYPT_PASSWD, CRYPT_CASES],
      ] as const
    ) {
      const pwfile = `${dir.path}/passwd-${pwcmp}`;
      Deno.writeTextFileSync(pwfile, passwd);
      const cdb = await importStore(passwd, dir.path, pwcmp);
      const refEnv = { CVM_PWFILE_PATH: pwfile, CVM_PWFILE_PWCMP: pwcmp };
      const ourEnv = { CVM_CDB_PATH: cdb, CVM_CDB_PWCMP: pwcmp };
      const refSocket = `${dir.path}/ref-${pwcmp}.sock`;
      const ourSocket = `${dir.path}/ours-${pwcmp}.sock`;
      const refPort = await freeUdpPort();
      const ourPort = await freeUdpPort();
      servers.push(
        await startServer(
          `${REF}/cvm-pwfile`,
          [`cvm-local:${refSocket}`],
          refEnv,
        ),
        await startServer(`${dist}/cvm-cdb-local`, [ourSocket], ourEnv),
        await startServer(
          `${REF}/cvm-pwfile`,
          [`cvm-udp:127.0.0.1:${refPort}`],
          refEnv,
        ),
        await startServer(
          `${dist}/cvm-cdb-udp`,
          ["127.0.0.1", String(ourPort)],
          ourEnv,
        ),
      );
      for (const c of cases) {
        await t.step(`${pwcmp}: ${c.name}`, async () => {
          const v1 = c.v1 ?? false;
          const lookup = c.env?.CVM_LOOKUP_SECRET !== undefined;
          const modes: Array<[string, string, string]> = [
            ["command", `${REF}/cvm-pwfile`, `${dist}/cvm-cdb`],
          ];
          // The servers run without a lookup secret (it is the module's).
          if (!lookup) {
            modes.push(
              ["local", `cvm-local:${refSocket}`, `cvm-local:${ourSocket}`],
              [
                "udp",
                `cvm-udp:127.0.0.1:${refPort}`,
                `cvm-udp:127.0.0.1:${ourPort}`,
              ],
            );
          }
          for (const [mode, refModule, ourModule] of modes) {
            const expected = await run(client(v1), [refModule, ...c.args], {
              env: { ...refEnv, ...c.env },
            });
            const actual = await run(client(v1), [ourModule, ...c.args], {
              env: { ...ourEnv, ...c.env },
            });
            assertEquals(outcome(actual), outcome(expected), mode);
            if (c.expect !== undefined) assertEquals(actual.code, c.expect);
          }
        });
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    dir.cleanup();
  }
});

/** Runs the reference's testclient against our command-mode cvm-cdb. */
function ask(env: Record<string, string>, ...args: string[]) {
  return run(TESTCLIENT, [`${dist}/cvm-cdb`, ...args], { env });
}

/** The facts lines testclient printed, by label. */
function facts(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

Deno.test("CVM_CDB_DOMAINS=1 keys accounts by account@domain, in any case, and sends the domain fact", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const cdb = await importStore(
      [
        "bob@Example.com:one:1001:100::/home/example/bob:",
        "bob@other.org:two:1002:100::/home/other/bob:",
        "postmaster:three:1003:100::/home/pm:",
      ].join("\n"),
      dir.path,
      "domains",
    );
    const env = {
      CVM_CDB_PATH: cdb,
      CVM_CDB_PWCMP: "plain",
      CVM_CDB_DOMAINS: "1",
    };
    const one = await ask(env, "bob@EXAMPLE.com", "", "one");
    assertEquals(one.code, 0, one.stderr);
    assertEquals(facts(one.stdout)["user name"], "bob@Example.com");
    assertEquals(facts(one.stdout)["domain"], "Example.com");
    assertEquals(facts(one.stdout)["user ID"], "1001");
    // The domain given apart from the account.
    const two = await ask(env, "bob", "other.org", "two");
    assertEquals(facts(two.stdout)["user ID"], "1002");
    // One domain's password is not another's.
    assertEquals((await ask(env, "bob@other.org", "", "one")).code, 100);
    // No domain: the name alone.
    assertEquals((await ask(env, "bob", "", "one")).code, 100);
    assertEquals((await ask(env, "postmaster", "", "three")).code, 0);
    // Without CVM_CDB_DOMAINS the domain is not part of the key.
    const off = { ...env, CVM_CDB_DOMAINS: "0" };
    assertEquals((await ask(off, "bob@example.com", "", "one")).code, 100);
    assertEquals((await ask(off, "postmaster@x.org", "", "three")).code, 0);
    const bad = await ask({ ...env, CVM_CDB_DOMAINS: "yes" }, "bob", "", "x");
    assertEquals(bad.code, 6);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-cdb reads Dovecot's extra fields and empty ids: the mailbox fact, $CVM_CDB_UID and $CVM_CDB_GID", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const cdb = await importStore(
      "al:pw:::Al:/home/al::userdb_mail=maildir:~/Maildir userdb_x=1:2\n",
      dir.path,
      "dovecot",
    );
    const env = { CVM_CDB_PATH: cdb, CVM_CDB_PWCMP: "plain" };
    // No default ids: a configuration error, after the password (as cvm-pwfile).
    assertEquals((await ask(env, "al", "", "wrong")).code, 100);
    const missing = await ask(env, "al", "", "pw");
    assertEquals(missing.code, 6);
    assertEquals(
      missing.stderr,
      "cvm-testclient: Authentication failed, error #6 (Configuration error)\n",
    );
    const withIds = { ...env, CVM_CDB_UID: "5000", CVM_CDB_GID: "5001" };
    const r = await ask(withIds, "al", "", "pw");
    assertEquals(r.code, 0, r.stderr);
    const f = facts(r.stdout);
    assertEquals(
      [f["user ID"], f["group ID"], f["real name"], f["mailbox path"]],
      ["5000", "5001", "Al", "/home/al/Maildir"],
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-cdb serves a store tinycdb's cdb -c made, and a missing or broken store is a temporary error (IO)", async () => {
  if (!have(TESTCLIENT) || !have("/usr/bin/cdb")) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/tiny.cdb`;
    const value = "Bob:pw2:1001:100:Bob B:/home/bob:/bin/sh";
    const input = `+3,${value.length}:bob->${value}\n\n`;
    const made = await run("/usr/bin/cdb", ["-c", path], {
      stdin: new TextEncoder().encode(input),
    });
    assertEquals(made.code, 0, made.stderr);
    const env = { CVM_CDB_PATH: path, CVM_CDB_PWCMP: "plain" };
    const ok = await ask(env, "BOB", "", "pw2");
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(facts(ok.stdout)["real name"], "Bob B");
    const missing = { ...env, CVM_CDB_PATH: `${dir.path}/none.cdb` };
    assertEquals((await ask(missing, "bob", "", "pw2")).code, 4);
    Deno.writeTextFileSync(`${dir.path}/broken.cdb`, "not a cdb");
    const broken = { ...env, CVM_CDB_PATH: `${dir.path}/broken.cdb` };
    assertEquals((await ask(broken, "bob", "", "pw2")).code, 4);
    assertEquals(
      (await ask({ CVM_CDB_PWCMP: "plain" }, "bob", "", "x")).code,
      6,
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-cdb-local sees a replaced store at the next request, and forgets the file on SIGHUP", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const cdb = await importStore("bob:one:1:1::/:\n", dir.path, "live");
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-cdb-local`, [socket], {
      CVM_CDB_PATH: cdb,
      CVM_CDB_PWCMP: "plain",
    });
    const module = `cvm-local:${socket}`;
    assertEquals((await run(TESTCLIENT, [module, "bob", "", "one"])).code, 0);
    await importStore("bob:two:1:1::/:\n", dir.path, "live");
    // A server looks at its file at most once a second.
    const seen = await eventually(
      () => run(TESTCLIENT, [module, "bob", "", "two"]),
      (r) => r.code === 0,
    );
    assertEquals(seen.code, 0);
    assertEquals((await run(TESTCLIENT, [module, "bob", "", "one"])).code, 100);
    Deno.kill(server.pid, "SIGHUP");
    await server.waitFor(/^Reloading\.$/);
    assertEquals((await run(TESTCLIENT, [module, "bob", "", "two"])).code, 0);
  } finally {
    await server?.stop();
    dir.cleanup();
  }
});

Deno.test("cvm-cdb's default comparison (scheme) validates what cvm cdbpasswd writes in each scheme family, and Dovecot's nologin refuses", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    const schemes = [
      "SHA512-CRYPT",
      "BLF-CRYPT",
      "SSHA512",
      "PBKDF2",
      "ARGON2ID",
      "PLAIN",
    ];
    for (const [i, scheme] of schemes.entries()) {
      const r = await run(
        `${dist}/cvm`,
        ["cdbpasswd", "-f", path, "-s", scheme, "add", `u${i}`, "1", "1", "/h"],
        { stdin: new TextEncoder().encode(`pw ${scheme}\n`) },
      );
      assertEquals(r.code, 0, r.stderr);
    }
    const env = { CVM_CDB_PATH: path };
    for (const [i, scheme] of schemes.entries()) {
      assertEquals(
        (await ask(env, `u${i}`, "", `pw ${scheme}`)).code,
        0,
        scheme,
      );
      assertEquals((await ask(env, `u${i}`, "", "pw wrong")).code, 100, scheme);
    }
    // A bare crypt(3) hash is CRYPT, the default of $CVM_DEFAULT_SCHEME.
    const refused = await importStore(
      [
        "bare:$6$saltsalt$6GEUHm13yvEfDVKKaP4rrIOwpxslwzty0iGy.28VWwekxwdiBykljm02m5JmMYSJccJGgUuHLfD6Ooh02E8wt0:1:1::/h:",
        "off:{PLAIN}pw2:1:1::/h::nologin=y",
      ].join("\n"),
      dir.path,
      "more",
    );
    const more = { CVM_CDB_PATH: refused };
    assertEquals((await ask(more, "bare", "", "pw2")).code, 0);
    assertEquals((await ask(more, "off", "", "pw2")).code, 100);
    assertEquals(
      (await ask({ ...more, CVM_DEFAULT_SCHEME: "PLAIN" }, "bare", "", "pw2"))
        .code,
      100,
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-cdb gets the runtime's policy layers: an account in CVM_ACCESS's deny/ is refused with its right password", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const cdb = await importStore(
      "bob:pw:1:1::/h:\ncarol:pw:2:2::/h:\n",
      dir.path,
      "policy",
    );
    Deno.mkdirSync(`${dir.path}/access/deny`, { recursive: true });
    Deno.writeTextFileSync(`${dir.path}/access/deny/carol`, "");
    const env = {
      CVM_CDB_PATH: cdb,
      CVM_CDB_PWCMP: "plain",
      CVM_ACCESS: `${dir.path}/access`,
    };
    assertEquals((await ask(env, "bob", "", "pw")).code, 0);
    assertEquals((await ask(env, "carol", "", "pw")).code, 100);
  } finally {
    dir.cleanup();
  }
});
