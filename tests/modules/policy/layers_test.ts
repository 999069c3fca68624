/**
 * Each policy layer on its own, and all of them together, in every contact
 * mode, through the real programs (dist/cvm-pwfile) and our client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { eventually, tempDir } from "../../_helpers.ts";
import { ask, freeTcpPort, logged, MODES, startModule } from "./_servers.ts";

const PASSWD = "bob:pw:1000:1000:Bob:/home/bob:/bin/sh\n" +
  "mallory:pw:1001:1001:Mallory:/home/mallory:/bin/sh\n";

function setup() {
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/passwd`, PASSWD);
  Deno.mkdirSync(`${dir.path}/access/deny`, { recursive: true });
  Deno.writeTextFileSync(`${dir.path}/access/deny/mallory`, "");
  return dir;
}

for (const mode of MODES) {
  Deno.test(`${mode}: the access tables refuse a denied account whatever its password`, async () => {
    const dir = setup();
    const module = await startModule("cvm-pwfile", mode, {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_ACCESS: `${dir.path}/access`,
    }, dir.path);
    try {
      assert.equal((await ask(module, "mallory", "pw")).code, 100);
      assert.equal((await ask(module, "MALLORY", "pw")).code, 100);
      assert.equal((await ask(module, "bob", "pw")).code, 0);
      assert.equal((await ask(module, "bob", "wrong")).code, 100);
      if (module.server) {
        await logged(module, /^\+ bob$/);
        assert.deepEqual(module.server.log.slice(1, 4), [
          "- mallory",
          "- MALLORY",
          "+ bob",
        ]);
      }
    } finally {
      await module.stop();
      dir.cleanup();
    }
  });

  Deno.test(`${mode}: the failure delay holds every rejection, not a success`, async () => {
    const dir = setup();
    const delay = 700;
    const module = await startModule("cvm-pwfile", mode, {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_FAIL_DELAY: String(delay),
    }, dir.path);
    try {
      const right = await ask(module, "bob", "pw");
      const wrong = await ask(module, "bob", "wrong");
      const unknown = await ask(module, "nobody", "pw");
      assert.equal(right.code, 0);
      assert.equal(wrong.code, 100);
      assert.equal(unknown.code, 100);
      // Lower bounds only: load can make things slower, never faster.
      assert.ok(
        wrong.ms - right.ms > delay * 0.6,
        `${wrong.ms} vs ${right.ms}`,
      );
      assert.ok(unknown.ms - right.ms > delay * 0.6);
    } finally {
      await module.stop();
      dir.cleanup();
    }
  });

  Deno.test(`${mode}: the cache answers from memory in server modes; command mode has no memory to keep`, async () => {
    const dir = setup();
    const module = await startModule("cvm-pwfile", mode, {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_CACHE_TTL: "300",
    }, dir.path);
    try {
      assert.equal((await ask(module, "bob", "pw")).code, 0);
      // The password changes in the file; the cached answer stands.
      Deno.writeTextFileSync(
        `${dir.path}/passwd`,
        PASSWD.replace("bob:pw:", "bob:new:"),
      );
      const old = await ask(module, "bob", "pw");
      assert.equal(old.code, mode === "command" ? 100 : 0);
      // A server looks at its file at most once a second.
      const fresh = await eventually(
        () => ask(module, "bob", "new"),
        (r) => r.code === 0,
      );
      assert.equal(fresh.code, 0);
      if (module.server) {
        // No word for a fresh hit: the lines are the reference's.
        // Asked again while the file was not looked at yet: "- bob" lines
        // between, then the new password's success.
        await logged(module, /^\+ bob$/);
        const lines = module.server.log.slice(1);
        assert.deepEqual(lines.slice(0, 2), ["+ bob", "+ bob"]);
        assert.equal(lines.at(-1), "+ bob");
        assert.ok(lines.slice(2, -1).every((l) => l === "- bob"), `${lines}`);
      }
    } finally {
      await module.stop();
      dir.cleanup();
    }
  });

  Deno.test(`${mode}: the penalty adds the address to the log and slows the next guess`, async () => {
    const dir = setup();
    const module = await startModule("cvm-pwfile", mode, {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.6",
    }, dir.path);
    try {
      const first = await ask(module, "bob", "guess1", "192.0.2.1");
      const second = await ask(module, "bob", "guess2", "192.0.2.1");
      assert.equal(first.code, 100);
      assert.equal(second.code, 100, "the true answer, only later");
      const right = await ask(module, "bob", "pw", "192.0.2.1");
      assert.equal(right.code, 0);
      if (mode === "command") {
        // One process per request: nothing to remember without Redis.
        return;
      }
      assert.ok(second.ms - first.ms > 600 * 0.6, `${second.ms} ${first.ms}`);
      await ask(module, "bob", "x", "junk\n+ root");
      await ask(module, "bob", "x");
      await module.server!.waitForLines(6);
      assert.deepEqual(module.server!.log.slice(1), [
        "- bob 192.0.2.1",
        "- bob 192.0.2.1",
        "+ bob 192.0.2.1",
        "- bob ?",
        "- bob",
      ]);
    } finally {
      await module.stop();
      dir.cleanup();
    }
  });

  Deno.test(`${mode}: all layers together`, async () => {
    const dir = setup();
    const module = await startModule("cvm-pwfile", mode, {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_ACCESS: `${dir.path}/access`,
      CVM_CACHE_TTL: "300",
      CVM_CACHE_NEGATIVE_TTL: "300",
      CVM_FAIL_DELAY: "10",
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.3",
      CVM_PENALTY_TRUSTED: "10.0.0.0/8",
      CVM_METRICS: `127.0.0.1:${freeTcpPort()}`,
    }, dir.path);
    try {
      assert.equal((await ask(module, "bob", "pw", "192.0.2.9")).code, 0);
      assert.equal((await ask(module, "bob", "pw", "192.0.2.9")).code, 0);
      assert.equal((await ask(module, "bob", "no", "10.1.1.1")).code, 100);
      assert.equal((await ask(module, "mallory", "pw", "192.0.2.9")).code, 100);
      assert.equal((await ask(module, "bob", "no", "192.0.2.9")).code, 100);
      assert.equal((await ask(module, "bob", "pw", "192.0.2.9")).code, 0);
      if (module.server) {
        await module.server.waitForLines(7);
        assert.deepEqual(module.server.log.slice(1), [
          "+ bob 192.0.2.9",
          "+ bob 192.0.2.9",
          "- bob 10.1.1.1",
          "- mallory 192.0.2.9",
          "- bob 192.0.2.9",
          "+ bob 192.0.2.9",
        ]);
      }
    } finally {
      await module.stop();
      dir.cleanup();
    }
  });
}
