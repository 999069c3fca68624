/**
 * The policy layers' settings, read from the environment (envdir-friendly)
 * once at start. Every layer is off unless its variable is set; a bad value
 * is a configuration error (CONFIG) whose message names the variable.
 *
 * @module
 */

import { CvmError, ErrorCode } from "../../protocol/mod.ts";
import { type Network, parseNetworks } from "./address.ts";

/** Where the metrics server listens. */
export interface ListenAddress {
  /** The host to bind (loopback unless the variable named another). */
  hostname: string;
  /** The TCP port. */
  port: number;
}

/** A Redis server to keep shared state in. */
export interface RedisSettings {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** The database number. */
  db: number;
  /** What every key starts with. */
  prefix: string;
}

/** Everything the policy layers were told. Durations in milliseconds. */
export interface PolicySettings {
  /** `$CVM_ACCESS`: the directory holding `allow/` and `deny/`. */
  accessDir?: string;
  /** `$CVM_CACHE_TTL`: how long a positive answer is served from the cache (0: not cached). */
  cacheTtlMs: number;
  /** `$CVM_CACHE_NEGATIVE_TTL`: the same for rejections (0: not cached). */
  cacheNegativeTtlMs: number;
  /** `$CVM_CACHE_STALE`: how long past its TTL a positive answer may stand in for a temporary failure. */
  cacheStaleMs: number;
  /** `$CVM_CACHE_SIZE`: the most answers kept in memory. */
  cacheSize: number;
  /** `$CVM_CACHE_KEY`: the HMAC key shared by hosts, when set. */
  cacheKey?: string;
  /** `$CVM_FAIL_DELAY`: added to every rejection. */
  failDelayMs: number;
  /** `$CVM_PENALTY=1`: the penalty layer is on. */
  penalty: boolean;
  /** `$CVM_PENALTY_BASE`: the first penalty (default 2 s). */
  penaltyBaseMs: number;
  /** `$CVM_PENALTY_MAX`: the longest penalty (default 15 s). */
  penaltyMaxMs: number;
  /** `$CVM_PENALTY_TRUSTED`: networks that are never penalized. */
  penaltyTrusted: Network[];
  /** `$CVM_METRICS`: where Prometheus text is served. */
  metrics?: ListenAddress;
  /** `$CVM_REDIS_URL` and `$CVM_REDIS_PREFIX`. */
  redis?: RedisSettings;
}

type Env = Record<string, string | undefined>;

function config(variable: string, what: string): CvmError {
  return new CvmError(ErrorCode.CONFIG, `$${variable} ${what}`);
}

/** A number of seconds (fractions allowed) as milliseconds; `fallback` when unset or empty. */
function seconds(env: Env, variable: string, fallback: number): number {
  const text = env[variable];
  if (text === undefined || text === "") return fallback;
  if (!/^[0-9]{1,9}(\.[0-9]{1,6})?$/.test(text)) {
    throw config(variable, "is not a number of seconds");
  }
  return Math.round(Number(text) * 1000);
}

function wholeNumber(
  env: Env,
  variable: string,
  fallback: number,
  what: string,
): number {
  const text = env[variable];
  if (text === undefined || text === "") return fallback;
  if (!/^[0-9]{1,9}$/.test(text)) throw config(variable, `is not ${what}`);
  return Number(text);
}

function flag(env: Env, variable: string): boolean {
  const text = env[variable];
  if (text === undefined || text === "" || text === "0") return false;
  if (text === "1") return true;
  throw config(variable, "is not 0 or 1");
}

/**
 * Parses `$CVM_METRICS`: `HOST:PORT`, `[IPV6]:PORT`, or a bare `PORT`
 * (loopback).
 *
 * @param text The value.
 * @returns The address to listen on.
 * @throws {CvmError} CONFIG naming `$CVM_METRICS`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseListenAddress } from "./settings.ts";
 * assert.deepEqual(parseListenAddress("9117"), { hostname: "127.0.0.1", port: 9117 });
 * assert.deepEqual(parseListenAddress("[::1]:9117"), { hostname: "::1", port: 9117 });
 * ```
 */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):)?([0-9]{1,5})$/
    .exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 1 && port <= 65535)) {
    throw config("CVM_METRICS", "is not HOST:PORT");
  }
  return { hostname: match[1] ?? match[2] ?? "127.0.0.1", port };
}

/**
 * Parses `$CVM_REDIS_URL`: `redis://host:port[/db]` (port 6379 when left
 * out). User names, passwords and TLS are not supported.
 *
 * @param text The URL.
 * @param prefix `$CVM_REDIS_PREFIX`.
 * @returns The settings.
 * @throws {CvmError} CONFIG naming `$CVM_REDIS_URL`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "./settings.ts";
 * assert.equal(parseRedisUrl("redis://127.0.0.1:6379/2", "cvm:").db, 2);
 * ```
 */
export function parseRedisUrl(text: string, prefix: string): RedisSettings {
  const match =
    /^redis:\/\/(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?(?:\/([0-9]{1,2})?)?$/
      .exec(text);
  const port = match?.[3] === undefined ? 6379 : Number(match[3]);
  if (!match || !(port >= 1 && port <= 65535)) {
    throw config("CVM_REDIS_URL", "is not redis://host:port[/db]");
  }
  return {
    host: match[1] ?? match[2],
    port,
    db: match[4] === undefined ? 0 : Number(match[4]),
    prefix,
  };
}

/**
 * Reads every policy variable. With none set, every layer is off.
 *
 * @param env The environment.
 * @returns The settings.
 * @throws {CvmError} CONFIG naming the first variable with a bad value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { policySettingsFromEnv } from "./settings.ts";
 * assert.equal(policySettingsFromEnv({ CVM_CACHE_TTL: "300" }).cacheTtlMs, 300000);
 * ```
 */
export function policySettingsFromEnv(env: Env): PolicySettings {
  const accessDir = env.CVM_ACCESS;
  if (accessDir !== undefined && accessDir !== "") {
    let isDirectory = false;
    try {
      isDirectory = Deno.statSync(accessDir).isDirectory;
    } catch { /* reported below */ }
    if (!isDirectory) throw config("CVM_ACCESS", "is not a directory");
  }
  const cacheSize = wholeNumber(
    env,
    "CVM_CACHE_SIZE",
    10_000,
    "a number of entries",
  );
  if (cacheSize < 1) throw config("CVM_CACHE_SIZE", "is not at least 1");
  const penaltyBaseMs = seconds(env, "CVM_PENALTY_BASE", 2000);
  const penaltyMaxMs = seconds(env, "CVM_PENALTY_MAX", 15_000);
  if (penaltyBaseMs <= 0) {
    throw config("CVM_PENALTY_BASE", "is not a positive number of seconds");
  }
  const metricsText = env.CVM_METRICS;
  const redisText = env.CVM_REDIS_URL;
  const prefix = env.CVM_REDIS_PREFIX ?? "cvm:";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f]/.test(prefix)) {
    throw config("CVM_REDIS_PREFIX", "holds a space or control character");
  }
  const key = env.CVM_CACHE_KEY;
  return {
    accessDir: accessDir || undefined,
    cacheTtlMs: seconds(env, "CVM_CACHE_TTL", 0),
    cacheNegativeTtlMs: seconds(env, "CVM_CACHE_NEGATIVE_TTL", 0),
    cacheStaleMs: seconds(env, "CVM_CACHE_STALE", 0),
    cacheSize,
    cacheKey: key || undefined,
    failDelayMs: wholeNumber(
      env,
      "CVM_FAIL_DELAY",
      0,
      "a number of milliseconds",
    ),
    penalty: flag(env, "CVM_PENALTY"),
    penaltyBaseMs,
    penaltyMaxMs,
    penaltyTrusted: parseNetworks(
      env.CVM_PENALTY_TRUSTED ?? "",
      "CVM_PENALTY_TRUSTED",
    ),
    metrics: metricsText ? parseListenAddress(metricsText) : undefined,
    redis: redisText ? parseRedisUrl(redisText, prefix) : undefined,
  };
}
