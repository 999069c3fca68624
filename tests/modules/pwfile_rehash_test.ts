/**
 * Upgrade on login in cvm-pwfile (`$CVM_REHASH`): the account's line gets
 * the new hash after one login, every other byte of the file stays, the
 * next login uses the new hash, concurrent logins leave a valid file, and
 * a write that fails never fails the login.
 */
import assert from "node:assert/strict";
import {
  dist,
  ensureDist,
  have,
  REF,
  run,
  type Server,
  startServer,
  tempDir,
} from "../_helpers.ts";
import { verifyPassword } from "../../modules/passwords/mod.ts";
import { verifyCrypt } from "../../sys/mod.ts";

const TESTCLIENT = `${REF}/cvm-testclient`;
const enc = new TextEncoder();
/** "pw2" as MD5-crypt. */
const MD5_PW2 = "$1$saltsalt$Xa0ph/FgJWdXZbigktEJ/.";
const OTHERS = [
  "# not an account",
  "alice:$1$saltsalt$Xa0ph/FgJWdXZbigktEJ/.:1000:100:Alice:/home/alice:/bin/sh",
  "",
];

function passwdFile(bobPassword: string): string {
  return [
    OTHERS[0],
    `Bob:${bobPassword}:1001:100:Bob \xe9:/home/bob:/bin/sh`,
    ...OTHERS.slice(1),
  ].join("\n");
}

function login(env: Record<string, string>, module: string, password: string) {
  return run(TESTCLIENT, [module, "bob", "", password], { env });
}

/** The lines of the file other than Bob's. */
function othersOf(text: string): string[] {
  return text.split("\n").filter((l) => !l.startsWith("Bob:"));
}

function bobsPassword(text: string): string {
  return text.split("\n").find((l) => l.startsWith("Bob:"))!.split(":")[1];
}

Deno.test("cvm-pwfile with CVM_REHASH stores the new hash after one login; the next login uses it; nothing else changes", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/passwd`;
    // A byte that is no UTF-8 must survive the rewrite too.
    const raw = enc.encode(passwdFile(MD5_PW2));
    raw[raw.indexOf(0x20)] = 0xff;
    Deno.writeFileSync(path, raw);
    Deno.chmodSync(path, 0o640);
    const before = Deno.readTextFileSync(path);
    const env = {
      CVM_PWFILE_PATH: path,
      CVM_PWFILE_PWCMP: "crypt",
      CVM_REHASH: "SHA512-CRYPT",
    };
    const module = `${dist}/cvm-pwfile`;
    // A wrong password changes nothing.
    assert.equal((await login(env, module, "wrong")).code, 100);
    assert.equal(Deno.readTextFileSync(path), before);
    const first = await login(env, module, "pw2");
    assert.equal(first.code, 0, first.stderr);
    const after = Deno.readTextFileSync(path);
    const stored = bobsPassword(after);
    assert.match(stored, /^\$6\$/);
    assert.ok(await verifyCrypt(enc.encode("pw2"), stored));
    assert.deepEqual(othersOf(after), othersOf(before));
    assert.equal(
      after.replace(stored, MD5_PW2),
      before,
      "only the hash changed",
    );
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o640);
    // The old hash is gone: the second login can only have used the new one.
    const second = await login(env, module, "pw2");
    assert.equal(second.code, 0, second.stderr);
    assert.equal(Deno.readTextFileSync(path), after, "already in the scheme");
    // The reference's module reads the file we wrote.
    const ref = await login(
      { CVM_PWFILE_PATH: path, CVM_PWFILE_PWCMP: "crypt" },
      `${REF}/cvm-pwfile`,
      "pw2",
    );
    assert.equal(ref.code, 0, ref.stderr);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-pwfile with CVM_REHASH upgrades plain text in scheme mode to {SCHEME}hash", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/passwd`;
    Deno.writeTextFileSync(path, passwdFile("plain-pw"));
    const env = {
      CVM_PWFILE_PATH: path,
      CVM_PWFILE_PWCMP: "scheme",
      CVM_DEFAULT_SCHEME: "PLAIN",
      CVM_REHASH: "SSHA512",
    };
    const module = `${dist}/cvm-pwfile`;
    assert.equal((await login(env, module, "plain-pw")).code, 0);
    const stored = bobsPassword(Deno.readTextFileSync(path));
    assert.match(stored, /^\{SSHA512\}/);
    assert.ok(await verifyPassword(stored, enc.encode("plain-pw")));
    assert.equal((await login(env, module, "plain-pw")).code, 0);
    assert.equal((await login(env, module, "{SSHA512}")).code, 100);
  } finally {
    dir.cleanup();
  }
});

Deno.test("concurrent logins to cvm-pwfile-local with CVM_REHASH all succeed and leave one valid hash", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const path = `${dir.path}/passwd`;
    Deno.writeTextFileSync(path, passwdFile(MD5_PW2));
    const before = Deno.readTextFileSync(path);
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-pwfile-local`, [socket], {
      CVM_PWFILE_PATH: path,
      CVM_PWFILE_PWCMP: "crypt",
      CVM_REHASH: "SHA256-CRYPT",
    });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => login({}, `cvm-local:${socket}`, "pw2")),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const after = Deno.readTextFileSync(path);
    const stored = bobsPassword(after);
    assert.match(stored, /^\$5\$/);
    assert.ok(await verifyCrypt(enc.encode("pw2"), stored));
    assert.deepEqual(othersOf(after), othersOf(before));
    assert.equal(server.stderr(), "");
    assert.equal((await login({}, `cvm-local:${socket}`, "pw2")).code, 0);
    const leftovers = [...Deno.readDirSync(dir.path)].map((e) => e.name)
      .filter((n) => n.includes(".tmp."));
    assert.deepEqual(leftovers, []);
  } finally {
    await server?.stop();
    dir.cleanup();
  }
});

Deno.test("a rehash that cannot be written never fails the login, and is said once on stderr without the password", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const path = `${dir.path}/passwd`;
    Deno.writeTextFileSync(path, passwdFile(MD5_PW2));
    const before = Deno.readTextFileSync(path);
    // The lock file cannot be made: its name leads nowhere.
    Deno.symlinkSync(`${dir.path}/no/such/dir/lock`, `${path}.lock`);
    const env = {
      CVM_PWFILE_PATH: path,
      CVM_PWFILE_PWCMP: "crypt",
      CVM_REHASH: "SHA512-CRYPT",
    };
    const r = await login(env, `${dist}/cvm-pwfile`, "pw2");
    assert.equal(r.code, 0);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^cvm-pwfile: CVM_REHASH: the new hash was not stored \(the login stands\): /,
    );
    assert.ok(!r.stderr.includes("pw2"));
    assert.equal(Deno.readTextFileSync(path), before);
    // A server says it once, however many logins meet it.
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-pwfile-local`, [socket], env);
    for (let i = 0; i < 3; i++) {
      assert.equal((await login({}, `cvm-local:${socket}`, "pw2")).code, 0);
    }
    await server.waitForLines(4);
    assert.equal(
      server.stderr().split("\n").filter((l) => l).length,
      1,
      server.stderr(),
    );
    assert.equal(Deno.readTextFileSync(path), before);
  } finally {
    await server?.stop();
    dir.cleanup();
  }
});

Deno.test("CVM_REHASH is a configuration error with a plain comparison or a scheme a crypt file cannot hold", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/passwd`;
    Deno.writeTextFileSync(path, passwdFile("pw"));
    const envs: Record<string, string>[] = [
      { CVM_PWFILE_PATH: path, CVM_REHASH: "SHA512-CRYPT" },
      {
        CVM_PWFILE_PATH: path,
        CVM_PWFILE_PWCMP: "crypt",
        CVM_REHASH: "SSHA",
      },
      {
        CVM_PWFILE_PATH: path,
        CVM_PWFILE_PWCMP: "scheme",
        CVM_REHASH: "NOPE",
      },
    ];
    for (const env of envs) {
      const r = await login(env, `${dist}/cvm-pwfile`, "pw");
      assert.equal(r.code, 6, JSON.stringify(env));
      assert.match(r.stderr, /CVM_REHASH/);
    }
  } finally {
    dir.cleanup();
  }
});
