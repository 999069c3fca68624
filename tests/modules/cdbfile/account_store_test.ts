/** The account store: records in order, changes under the lock, modes. */
import assert from "node:assert/strict";
import { Cdb, makeCdb } from "../../../modules/cdb/mod.ts";
import {
  accountKey,
  AccountRecords,
  readAccountStore,
  updateAccountStore,
} from "../../../modules/cdbfile/mod.ts";
import { FileLockTimeout } from "../../../modules/file_cache/mod.ts";
import { tempDir } from "../../_helpers.ts";

const dec = new TextDecoder();

Deno.test("accountKey() folds ASCII letters only", () => {
  assert.equal(accountKey("Bob@Example.COM"), "bob@example.com");
  assert.equal(accountKey("ÄBC"), "Äbc");
});

Deno.test("AccountRecords keeps file order, finds names in any case, and keeps only a key's first record", () => {
  const records = AccountRecords.fromCdb(makeCdb([
    ["bob", "Bob:a:1:1::/:"],
    ["carol", "carol:b:2:2::/:"],
    ["bob", "Bob:shadowed:1:1::/:"],
  ]));
  assert.equal(records.size, 2);
  assert.equal(records.get("BOB"), "Bob:a:1:1::/:");
  records.set("dave", "dave:c:3:3::/:");
  records.set("BOB", "Bob:new:1:1::/:");
  assert.deepEqual(records.names(), ["Bob", "carol", "dave"]);
  assert.ok(records.delete("Carol"));
  assert.ok(!records.delete("carol"));
  assert.deepEqual(
    [...records.entries()].map(([k, v]) => [dec.decode(k), dec.decode(v)]),
    [["bob", "Bob:new:1:1::/:"], ["dave", "dave:c:3:3::/:"]],
  );
});

Deno.test("updateAccountStore() makes a new store mode 0600 and keeps an old store's mode", async () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    await updateAccountStore(path, (a) => {
      a.set("bob", "bob:x:1:1::/:");
      return true;
    });
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    Deno.chmodSync(path, 0o640);
    await updateAccountStore(path, (a) => {
      a.set("carol", "carol:x:1:1::/:");
      return true;
    });
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o640);
    assert.deepEqual(readAccountStore(path).names(), ["bob", "carol"]);
    const inode = Deno.statSync(path).ino;
    assert.equal(await updateAccountStore(path, () => false), false);
    assert.equal(Deno.statSync(path).ino, inode, "nothing written");
  } finally {
    dir.cleanup();
  }
});

Deno.test("updateAccountStore() calls in one process take turns, so none loses another's change", async () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateAccountStore(path, (a) => {
          a.set(`user${i}`, `user${i}:x:${i}:1::/:`);
          return true;
        })),
    );
    const db = Cdb.fromBytes(Deno.readFileSync(path));
    assert.equal([...db.entries()].length, 20);
  } finally {
    dir.cleanup();
  }
});

Deno.test("updateAccountStore() waits for the lock flock(1) holds, and gives up past its timeout", async () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    const holder = new Deno.Command("flock", {
      // Holds it for 2 s, then lets go.
      args: [`${path}.lock`, "sleep", "2"],
    }).spawn();
    try {
      // Until flock has it.
      for (let i = 0; i < 200; i++) {
        const probe = Deno.openSync(`${path}.lock`, {
          write: true,
          create: true,
        });
        const free = probe.tryLockSync(true);
        if (free) probe.unlockSync();
        probe.close();
        if (!free) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await assert.rejects(
        updateAccountStore(path, () => true, { lockTimeoutMs: 200 }),
        FileLockTimeout,
      );
      assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
    } finally {
      await holder.status;
    }
    assert.ok(
      await updateAccountStore(path, (a) => {
        a.set("bob", "bob:x:1:1::/:");
        return true;
      }, { lockTimeoutMs: 2000 }),
    );
  } finally {
    dir.cleanup();
  }
});
