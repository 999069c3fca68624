/**
 * Upgrade on login in cvm-cdb (`$CVM_REHASH`): the store's value changes
 * after one login (under the store's lock, as tinycdb reads it), the next
 * login uses the new hash, concurrent logins leave a valid store, and a
 * password changed meanwhile is never overwritten.
 */
import assert from "node:assert/strict";
import {
  dist,
  ensureDist,
  eventually,
  have,
  REF,
  run,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";
import { verifyPassword } from "../../../modules/passwords/mod.ts";
import { readAccountStore } from "../../../modules/cdbfile/mod.ts";

const TESTCLIENT = `${REF}/cvm-testclient`;
const enc = new TextEncoder();

async function importStore(path: string, lines: string[]) {
  const r = await run(`${dist}/cvm`, ["cdbpasswd", "-f", path, "import"], {
    stdin: enc.encode(lines.join("\n")),
  });
  assert.equal(r.code, 0, r.stderr);
}

function valueOf(path: string, name: string): string {
  return readAccountStore(path).get(name)!;
}

Deno.test("cvm-cdb with CVM_REHASH stores the new hash after one login and the next login uses it", async () => {
  if (!have(TESTCLIENT) || !have("/usr/bin/cdb")) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    await importStore(path, [
      "bob:{PLAIN}pw one:1001:100:Bob:/home/bob:/bin/sh::userdb_mail=maildir:~/M",
      "carol:{PLAIN}pw two:1002:100::/home/carol:",
    ]);
    const carol = valueOf(path, "carol");
    const env = { CVM_CDB_PATH: path, CVM_REHASH: "ARGON2ID" };
    const module = `${dist}/cvm-cdb`;
    assert.equal(
      (await run(TESTCLIENT, [module, "bob", "", "wrong"], { env })).code,
      100,
    );
    assert.equal(valueOf(path, "bob").split(":")[1], "{PLAIN}pw one");
    const first = await run(TESTCLIENT, [module, "BOB", "", "pw one"], { env });
    assert.equal(first.code, 0, first.stderr);
    const line = (await run("/usr/bin/cdb", ["-q", path, "bob"])).stdout;
    const [name, stored, ...rest] = line.split(":");
    assert.equal(name, "bob");
    assert.match(stored, /^\{ARGON2ID\}\$argon2id\$/);
    assert.ok(await verifyPassword(stored, enc.encode("pw one")));
    assert.equal(
      rest.join(":"),
      "1001:100:Bob:/home/bob:/bin/sh::userdb_mail=maildir:~/M",
    );
    assert.equal(valueOf(path, "carol"), carol);
    const second = await run(TESTCLIENT, [module, "bob", "", "pw one"], {
      env,
    });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(valueOf(path, "bob"), line, "already in the scheme");
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-cdb in crypt mode upgrades one crypt(3) kind to another, bare as a crypt store keeps them", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    await importStore(path, [
      "bob:$1$saltsalt$Xa0ph/FgJWdXZbigktEJ/.:1:1::/h:",
    ]);
    const env = {
      CVM_CDB_PATH: path,
      CVM_CDB_PWCMP: "crypt",
      CVM_REHASH: "BLF-CRYPT",
    };
    const r = await run(TESTCLIENT, [`${dist}/cvm-cdb`, "bob", "", "pw2"], {
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    const stored = valueOf(path, "bob").split(":")[1];
    assert.match(stored, /^\$2y\$/);
    assert.equal(
      (await run(TESTCLIENT, [`${dist}/cvm-cdb`, "bob", "", "pw2"], { env }))
        .code,
      0,
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("concurrent logins to cvm-cdb-local with CVM_REHASH leave a valid store, while cdbpasswd adds go on", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const path = `${dir.path}/users.cdb`;
    await importStore(
      path,
      Array.from({ length: 8 }, (_, i) => `u${i}:{PLAIN}pw${i}:1:1::/h:`),
    );
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-cdb-local`, [socket], {
      CVM_CDB_PATH: path,
      CVM_REHASH: "SHA512-CRYPT",
    });
    const logins = Array.from(
      { length: 24 },
      (_, i) =>
        run(TESTCLIENT, [`cvm-local:${socket}`, `u${i % 8}`, "", `pw${i % 8}`]),
    );
    const adds = Array.from(
      { length: 4 },
      (_, i) =>
        run(`${dist}/cvm`, [
          "cdbpasswd",
          "-f",
          path,
          "add",
          `new${i}`,
          "1",
          "1",
          "/h",
        ], {
          stdin: enc.encode(`np${i}\n`),
        }),
    );
    for (const r of await Promise.all([...logins, ...adds])) {
      assert.equal(r.code, 0, r.stderr);
    }
    const store = readAccountStore(path);
    assert.equal(store.size, 12);
    for (let i = 0; i < 8; i++) {
      const stored = store.get(`u${i}`)!.split(":")[1];
      assert.match(stored, /^\{SHA512-CRYPT\}/, `u${i}`);
      assert.ok(await verifyPassword(stored, enc.encode(`pw${i}`)));
    }
    assert.equal(server.stderr(), "");
    for (let i = 0; i < 4; i++) {
      // A server looks at its file at most once a second.
      const r = await eventually(
        () => run(TESTCLIENT, [`cvm-local:${socket}`, `new${i}`, "", `np${i}`]),
        (r) => r.code === 0,
      );
      assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    await server?.stop();
    dir.cleanup();
  }
});

Deno.test("a password changed between the check and the upgrade is never overwritten", async () => {
  if (!have(TESTCLIENT)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    await importStore(path, ["bob:{PLAIN}old:1:1::/h:"]);
    const changed = `${dir.path}/changed.cdb`;
    await importStore(changed, ["bob:{PLAIN}new:1:1::/h:"]);
    // Another writer holds the lock while the login checks the old
    // password, and puts the changed store in place before letting go.
    const holder = new Deno.Command("flock", {
      args: [
        `${path}.lock`,
        "sh",
        "-c",
        'sleep 1.5; cp "$0" "$1.new" && mv "$1.new" "$1"',
        changed,
        path,
      ],
    }).spawn();
    try {
      for (let i = 0; i < 200; i++) {
        const probe = Deno.openSync(`${path}.lock`, { read: true });
        const free = probe.tryLockSync(true);
        if (free) probe.unlockSync();
        probe.close();
        if (!free) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const r = await run(TESTCLIENT, [`${dist}/cvm-cdb`, "bob", "", "old"], {
        env: { CVM_CDB_PATH: path, CVM_REHASH: "SSHA256" },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    } finally {
      assert.equal((await holder.status).code, 0);
    }
    assert.equal(valueOf(path, "bob"), "bob:{PLAIN}new:1:1::/h:");
  } finally {
    dir.cleanup();
  }
});
