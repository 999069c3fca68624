import assert from "node:assert/strict";
import {
  parseListenAddress,
  parseRedisUrl,
  policySettingsFromEnv,
} from "../../../modules/policy/mod.ts";
import { CvmError } from "../../../protocol/mod.ts";
import { dist, ensureDist, run, tempDir } from "../../_helpers.ts";

Deno.test("policySettingsFromEnv() leaves every layer off with no variable set", () => {
  const s = policySettingsFromEnv({});
  assert.equal(s.accessDir, undefined);
  assert.equal(s.cacheTtlMs, 0);
  assert.equal(s.cacheNegativeTtlMs, 0);
  assert.equal(s.failDelayMs, 0);
  assert.equal(s.penalty, false);
  assert.equal(s.metrics, undefined);
  assert.equal(s.redis, undefined);
  assert.equal(s.penaltyBaseMs, 2000);
  assert.equal(s.penaltyMaxMs, 15000);
});

Deno.test("policySettingsFromEnv() reads seconds, milliseconds, addresses and URLs", () => {
  const s = policySettingsFromEnv({
    CVM_CACHE_TTL: "300",
    CVM_CACHE_NEGATIVE_TTL: "0.5",
    CVM_CACHE_STALE: "3600",
    CVM_CACHE_SIZE: "50",
    CVM_FAIL_DELAY: "2000",
    CVM_PENALTY: "1",
    CVM_PENALTY_MAX: "30",
    CVM_METRICS: "127.0.0.1:9117",
    CVM_REDIS_URL: "redis://10.0.0.5:6380/3",
    CVM_REDIS_PREFIX: "mail1:",
  });
  assert.equal(s.cacheTtlMs, 300_000);
  assert.equal(s.cacheNegativeTtlMs, 500);
  assert.equal(s.cacheStaleMs, 3_600_000);
  assert.equal(s.cacheSize, 50);
  assert.equal(s.failDelayMs, 2000);
  assert.equal(s.penalty, true);
  assert.equal(s.penaltyMaxMs, 30_000);
  assert.deepEqual(s.metrics, { hostname: "127.0.0.1", port: 9117 });
  assert.deepEqual(s.redis, {
    host: "10.0.0.5",
    port: 6380,
    db: 3,
    prefix: "mail1:",
  });
  assert.deepEqual(parseListenAddress("9117"), {
    hostname: "127.0.0.1",
    port: 9117,
  });
  assert.deepEqual(parseListenAddress("0.0.0.0:9117"), {
    hostname: "0.0.0.0",
    port: 9117,
  });
  assert.equal(parseRedisUrl("redis://localhost", "cvm:").port, 6379);
});

Deno.test("policySettingsFromEnv() names the variable of each bad value", () => {
  const cases: [Record<string, string>, string][] = [
    [{ CVM_CACHE_TTL: "5m" }, "$CVM_CACHE_TTL"],
    [{ CVM_CACHE_NEGATIVE_TTL: "-1" }, "$CVM_CACHE_NEGATIVE_TTL"],
    [{ CVM_CACHE_STALE: "x" }, "$CVM_CACHE_STALE"],
    [{ CVM_CACHE_SIZE: "0" }, "$CVM_CACHE_SIZE"],
    [{ CVM_FAIL_DELAY: "2s" }, "$CVM_FAIL_DELAY"],
    [{ CVM_PENALTY: "yes" }, "$CVM_PENALTY"],
    [{ CVM_PENALTY_MAX: "1e3" }, "$CVM_PENALTY_MAX"],
    [{ CVM_PENALTY_BASE: "0" }, "$CVM_PENALTY_BASE"],
    [{ CVM_PENALTY_TRUSTED: "10.0.0.0/99" }, "$CVM_PENALTY_TRUSTED"],
    [{ CVM_METRICS: "localhost" }, "$CVM_METRICS"],
    [{ CVM_METRICS: "127.0.0.1:70000" }, "$CVM_METRICS"],
    [{ CVM_REDIS_URL: "http://127.0.0.1:6379" }, "$CVM_REDIS_URL"],
    [{ CVM_REDIS_URL: "redis://u:pw@127.0.0.1" }, "$CVM_REDIS_URL"],
    [{ CVM_REDIS_PREFIX: "a b" }, "$CVM_REDIS_PREFIX"],
    [{ CVM_ACCESS: "/nonexistent/cvm-access" }, "$CVM_ACCESS"],
  ];
  for (const [env, name] of cases) {
    assert.throws(
      () => policySettingsFromEnv(env),
      (e) => e instanceof CvmError && e.code === 6 && e.message.includes(name),
      JSON.stringify(env),
    );
  }
});

Deno.test("a module server with a bad policy value exits 6 at start naming the variable; command mode answers 6", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    Deno.writeTextFileSync(`${dir.path}/pw`, "bob:pw:1:1::/:\n");
    const env = { CVM_PWFILE_PATH: `${dir.path}/pw`, CVM_CACHE_TTL: "soon" };
    const server = await run(`${dist}/cvm-pwfile-local`, [
      `${dir.path}/s`,
    ], { env });
    assert.equal(server.code, 6);
    assert.match(server.stderr, /\$CVM_CACHE_TTL/);
    const command = await run(`${dist}/cvm-testclient`, [
      `cvm-command:${dist}/cvm-pwfile`,
      "bob",
      "",
      "pw",
    ], { env });
    assert.equal(command.code, 6);
    assert.match(command.stderr, /\$CVM_CACHE_TTL/);
  } finally {
    dir.cleanup();
  }
});
