/**
 * State shared through Redis: two module servers on one Redis share the
 * penalty and the cache; no password, nor an unkeyed hash of one, is ever
 * stored; losing Redis (stopped, or hung) costs nothing but the sharing,
 * said once, and getting it back is said once. Every test runs a
 * redis-server of its own on another port.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { dist, run, tempDir } from "../../_helpers.ts";
import { startProxy } from "../sql/_proxy.ts";
import { haveRedis, type OwnRedis, startOwnRedis } from "./_redis.ts";
import { ask, logged, type Module, startModule } from "./_servers.ts";

const PASSWORD = "Tr0ub4dor-and-3";
const PASSWD = `bob:${PASSWORD}:1000:1000:Bob:/home/bob:/bin/sh\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withRedis(
  body: (redis: OwnRedis, dir: string) => Promise<void>,
): Promise<void> {
  if (!haveRedis()) return;
  const redis = await startOwnRedis();
  const dir = tempDir();
  try {
    await body(redis, dir.path);
  } finally {
    await redis.stop();
    dir.cleanup();
  }
}

/** Every key and value in a Redis, as text, for looking for secrets. */
async function everything(redis: OwnRedis): Promise<string> {
  const keys = (await redis.cli("--scan")).split("\n").filter((k) => k);
  const parts = [...keys];
  for (const key of keys) {
    const type = (await redis.cli("TYPE", key)).trim();
    const value = type === "list"
      ? await redis.cli("LRANGE", key, "0", "-1")
      : await redis.cli("--no-raw", "GET", key);
    parts.push(value);
  }
  return parts.join("\n");
}

function secretsIn(text: string, password: string): string[] {
  const forbidden = [
    password,
    ...["md5", "sha1", "sha256", "sha512"].flatMap((algorithm) => [
      createHash(algorithm).update(password).digest("hex"),
      createHash(algorithm).update(password).digest("base64"),
    ]),
  ];
  return forbidden.filter((s) => text.includes(s));
}

Deno.test("two servers on one Redis: a guesser's penalty on one is felt on the other, and one's cache answers the other", async () => {
  await withRedis(async (redis, dir) => {
    Deno.writeTextFileSync(`${dir}/one`, PASSWD);
    Deno.writeTextFileSync(`${dir}/two`, ""); // no bob here: only the cache knows him
    const shared = {
      CVM_REDIS_URL: redis.url,
      CVM_REDIS_PREFIX: "mail:",
      CVM_CACHE_TTL: "300",
      CVM_CACHE_KEY: "shared secret of the site",
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.5",
    };
    const one = await startModule("cvm-pwfile", "local", {
      ...shared,
      CVM_PWFILE_PATH: `${dir}/one`,
    }, dir);
    const two = await startModule("cvm-pwfile", "udp", {
      ...shared,
      CVM_PWFILE_PATH: `${dir}/two`,
    }, dir);
    try {
      assert.equal((await ask(one, "bob", PASSWORD, "192.0.2.1")).code, 0);
      const fromCache = await ask(two, "bob", PASSWORD, "192.0.2.1");
      assert.equal(fromCache.code, 0, "two answered bob from one's cache");
      assert.equal(fromCache.username, "bob");
      assert.equal((await ask(two, "bob", "other", "192.0.2.1")).code, 100);

      // A guesser tries three accounts on one, then goes to two.
      for (const account of ["alice", "carol", "dave"]) {
        assert.equal(
          (await ask(one, account, "guess", "198.51.100.66")).code,
          100,
        );
      }
      const guesser = await ask(two, "erin", "guess", "198.51.100.66");
      const someoneElse = await ask(two, "frank", "guess", "198.51.100.77");
      assert.equal(guesser.code, 100);
      assert.ok(
        guesser.ms - someoneElse.ms > 2000 * 0.6,
        `guesser ${guesser.ms} ms, someone else ${someoneElse.ms} ms`,
      );
      assert.ok(someoneElse.ms < guesser.ms * 0.3);

      const keys = await redis.cli("--scan");
      assert.match(keys, /^mail:cache:[0-9a-f]{64}$/m);
      assert.match(keys, /^mail:penalty:address:198\.51\.100\.66$/m);
      for (const key of keys.split("\n").filter((k) => k)) {
        assert.ok(key.startsWith("mail:"), key);
        const ttl = Number(await redis.cli("PTTL", key));
        assert.ok(ttl > 0, `${key} expires (PTTL ${ttl})`);
      }
      assert.deepEqual(secretsIn(await everything(redis), PASSWORD), []);
      assert.deepEqual(secretsIn(keys, "other"), []);
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});

Deno.test("command mode shares the cache and the penalty through Redis", async () => {
  await withRedis(async (redis, dir) => {
    Deno.writeTextFileSync(`${dir}/passwd`, PASSWD);
    const module = await startModule("cvm-pwfile", "command", {
      CVM_PWFILE_PATH: `${dir}/passwd`,
      CVM_REDIS_URL: redis.url,
      CVM_CACHE_TTL: "300",
      CVM_CACHE_KEY: "k",
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.8",
    }, dir);
    assert.equal((await ask(module, "bob", PASSWORD)).code, 0);
    Deno.writeTextFileSync(`${dir}/passwd`, PASSWD.replace(PASSWORD, "new"));
    assert.equal((await ask(module, "bob", PASSWORD)).code, 0, "cached");
    const first = await ask(module, "bob", "guess1", "192.0.2.5");
    const second = await ask(module, "bob", "guess2", "192.0.2.5");
    assert.equal(second.code, 100);
    assert.ok(second.ms - first.ms > 800 * 0.6, `${second.ms} ${first.ms}`);
    assert.deepEqual(secretsIn(await everything(redis), PASSWORD), []);
  });
});

async function loseAndRegain(
  module: Module,
  lose: () => Promise<void>,
  regain: () => Promise<void>,
  where: string,
) {
  assert.equal((await ask(module, "bob", PASSWORD, "192.0.2.1")).code, 0);
  await lose();
  // Requests are answered all the same, from memory.
  for (let i = 0; i < 3; i++) {
    assert.equal((await ask(module, "bob", PASSWORD, "192.0.2.1")).code, 0);
    assert.equal((await ask(module, "bob", "x", "192.0.2.2")).code, 100);
  }
  await logged(module, new RegExp(`^redis: ${where} lost \\(`));
  await regain();
  await logged(
    module,
    new RegExp(`^redis: ${where} back; state shared again$`),
  );
  await sleep(200);
  const redisLines = module.server!.log.filter((l) => l.startsWith("redis:"));
  assert.equal(redisLines.length, 2, redisLines.join("\n"));
  assert.equal((await ask(module, "bob", PASSWORD, "192.0.2.1")).code, 0);
}

Deno.test("Redis going away and coming back: said once each, every request answered meanwhile", async () => {
  await withRedis(async (redis, dir) => {
    Deno.writeTextFileSync(`${dir}/passwd`, PASSWD);
    const module = await startModule("cvm-pwfile", "local", {
      CVM_PWFILE_PATH: `${dir}/passwd`,
      CVM_REDIS_URL: redis.url,
      CVM_CACHE_TTL: "300",
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.05",
    }, dir);
    try {
      await loseAndRegain(
        module,
        () => redis.stop(),
        () => redis.start(),
        `127\\.0\\.0\\.1:${redis.port}`,
      );
      // State goes to Redis again.
      await ask(module, "carol", "y", "192.0.2.3");
      assert.match(await redis.cli("--scan"), /penalty:address:192\.0\.2\.3/);
    } finally {
      await module.stop();
    }
  });
});

Deno.test("a hung Redis does not hang requests: said once, answered from memory, shared again when it heals", async () => {
  await withRedis(async (redis, dir) => {
    Deno.writeTextFileSync(`${dir}/passwd`, PASSWD);
    const proxy = startProxy(redis.port);
    const module = await startModule("cvm-pwfile", "udp", {
      CVM_PWFILE_PATH: `${dir}/passwd`,
      CVM_REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      CVM_CACHE_TTL: "300",
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.05",
    }, dir);
    try {
      await loseAndRegain(
        module,
        () => Promise.resolve(proxy.hang()),
        () => Promise.resolve(proxy.heal()),
        `127\\.0\\.0\\.1:${proxy.port}`,
      );
    } finally {
      await module.stop();
      await proxy.close();
    }
  });
});

Deno.test("an unreachable Redis at start is no error: the server starts, says so once, and answers", async () => {
  await withRedis(async (redis, dir) => {
    Deno.writeTextFileSync(`${dir}/passwd`, PASSWD);
    await redis.stop();
    const module = await startModule("cvm-pwfile", "local", {
      CVM_PWFILE_PATH: `${dir}/passwd`,
      CVM_REDIS_URL: redis.url,
      CVM_PENALTY: "1",
    }, dir);
    try {
      assert.equal((await ask(module, "bob", PASSWORD)).code, 0);
      assert.match(module.server!.log[0], /^redis: .* lost \(/);
      await redis.start();
      await logged(module, /^redis: .* back; state shared again$/);
    } finally {
      await module.stop();
    }
    // The command-mode program says it on stderr and answers.
    await redis.stop();
    const out = await run(`${dist}/cvm-testclient`, [
      `cvm-command:${dist}/cvm-pwfile`,
      "bob",
      "",
      PASSWORD,
    ], {
      env: {
        ...Deno.env.toObject(),
        CVM_PWFILE_PATH: `${dir}/passwd`,
        CVM_REDIS_URL: redis.url,
        CVM_PENALTY: "1",
      },
    });
    assert.equal(out.code, 0);
    assert.match(out.stderr, /^cvm-pwfile: redis: .* lost \(/);
    await redis.start();
  });
});
