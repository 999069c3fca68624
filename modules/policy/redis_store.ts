/**
 * Shared state in Redis (`$CVM_REDIS_URL`, through `ioredis`), so that hosts
 * share one cache and one penalty table. Keys start with
 * `$CVM_REDIS_PREFIX` and expire with their TTL; counters change in one
 * atomic script each. Redis is never a reason to refuse anyone: when it
 * cannot be reached, or does not answer within {@linkcode REDIS_TIMEOUT_MS},
 * the store says so once, keeps the state in this process's memory, checks
 * every second, and says once when it has Redis back.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { RedisSettings } from "./settings.ts";
import { MemoryStore, RECENT_FAILURES, type StateStore } from "./store.ts";

/** How long one Redis command may take before the store falls back, in ms. */
export const REDIS_TIMEOUT_MS = 250;
/** How often a lost Redis is tried again, in ms. */
export const REDIS_RETRY_MS = 1000;

const COUNT_UP = `local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n`;

const COUNT_DOWN = `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v > 1 then return redis.call('DECR', KEYS[1]) end
if v == 1 then redis.call('DEL', KEYS[1]) end
return 0`;

const SEEN_FAILURE = `local seen = redis.call('LPOS', KEYS[1], ARGV[1])
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if seen then return 1 end
return 0`;

/**
 * Opens the Redis store (waiting at most about a second for the first
 * connection; an unreachable Redis is not an error).
 *
 * @param settings Host, port, database and key prefix.
 * @param memory The store used while Redis is away.
 * @param log Where losing and regaining Redis is said, once each.
 * @returns The store.
 * @example
 * ```ts
 * import { openRedisStore } from "./redis_store.ts";
 * import { MemoryStore } from "./store.ts";
 * const store = await openRedisStore(
 *   { host: "127.0.0.1", port: 6379, db: 0, prefix: "cvm-example:" },
 *   new MemoryStore(10), () => {});
 * await store.countUp("x", 1000);
 * await store.close();
 * ```
 */
export async function openRedisStore(
  settings: RedisSettings,
  memory: MemoryStore,
  log: (line: string) => void,
): Promise<StateStore> {
  const { Redis } = await import("ioredis");
  const client: Redis = new Redis({
    host: settings.host,
    port: settings.port,
    db: settings.db,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => REDIS_RETRY_MS,
  });
  // Errors are met where commands fail; an unheard "error" event would end the process.
  client.on("error", () => {});
  const where = `${settings.host}:${settings.port}`;
  let up = true;
  let probe: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const lost = (e: unknown) => {
    if (!up || closed) return;
    up = false;
    const text = String(e instanceof Error ? e.message : e);
    // deno-lint-ignore no-control-regex
    const why = text.replace(/[\x00-\x1f\x7f]/g, "?");
    log(`redis: ${where} lost (${why}); keeping state in memory`);
    probe = setInterval(async () => {
      try {
        await client.ping();
      } catch {
        return;
      }
      if (closed || up) return;
      up = true;
      clearInterval(probe);
      probe = undefined;
      log(`redis: ${where} back; state shared again`);
    }, REDIS_RETRY_MS);
  };
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    lost(e);
  }
  const p = settings.prefix;
  /** Runs a Redis command, or the memory one while Redis is away. */
  const either = async <T>(
    remote: () => Promise<T>,
    local: () => Promise<T>,
  ): Promise<T> => {
    if (!up) return local();
    try {
      return await remote();
    } catch (e) {
      lost(e);
      return local();
    }
  };
  return {
    getAnswer: (key) =>
      either(
        async () => {
          const value = await client.getBuffer(`${p}cache:${key}`);
          return value === null ? undefined : new Uint8Array(value);
        },
        () => memory.getAnswer(key),
      ),
    putAnswer: (key, value, keepMs) =>
      either(
        async () => {
          await client.set(
            `${p}cache:${key}`,
            Buffer.from(value),
            "PX",
            keepMs,
          );
        },
        () => memory.putAnswer(key, value, keepMs),
      ),
    async clearAnswers() {
      await memory.clearAnswers();
      if (!up) return;
      try {
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(
            cursor,
            "MATCH",
            `${p}cache:*`,
            "COUNT",
            500,
          );
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== "0");
      } catch (e) {
        lost(e);
      }
    },
    countUp: (key, forgetMs) =>
      either(
        async () =>
          Number(
            await client.eval(COUNT_UP, 1, `${p}penalty:${key}`, forgetMs),
          ),
        () => memory.countUp(key, forgetMs),
      ),
    countDown: (key) =>
      either(
        async () => {
          await client.eval(COUNT_DOWN, 1, `${p}penalty:${key}`);
        },
        () => memory.countDown(key),
      ),
    countReset: (key) =>
      either(
        async () => {
          await client.del(`${p}penalty:${key}`, `${p}recent:${key}`);
        },
        () => memory.countReset(key),
      ),
    seenFailure: (counter, credential, forgetMs) =>
      either(
        async () =>
          Number(
            await client.eval(
              SEEN_FAILURE,
              1,
              `${p}recent:${counter}`,
              credential,
              forgetMs,
              RECENT_FAILURES,
            ),
          ) === 1,
        () => memory.seenFailure(counter, credential, forgetMs),
      ),
    close() {
      closed = true;
      clearInterval(probe);
      client.disconnect();
      return Promise.resolve();
    },
  };
}
