/**
 * A throwaway redis-server of a test's own, on a free port, that the test
 * may stop and start again. The shared one on 6379 is never touched.
 *
 * @module
 */

import { have } from "../../_helpers.ts";
import { freeTcpPort } from "./_servers.ts";

/** A redis-server started by a test. */
export interface OwnRedis {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Its URL for `$CVM_REDIS_URL`. */
  url: string;
  /** Starts it (again) on the same port. */
  start(): Promise<void>;
  /** Stops it (SHUTDOWN NOSAVE), and only it. */
  stop(): Promise<void>;
  /** Runs redis-cli against it; stdout. */
  cli(...args: string[]): Promise<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function command(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Whether redis-server and redis-cli are installed (skip, or fail with
 * CVM_TEST_REQUIRE_SERVICES=1).
 *
 * @returns True when both are.
 */
export function haveRedis(): boolean {
  return have("/usr/bin/redis-server") && have("/usr/bin/redis-cli");
}

/**
 * Starts a redis-server of the test's own.
 *
 * @returns The running server.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = freeTcpPort();
  const dir = Deno.makeTempDirSync({ prefix: "cvm-redis-" });
  const cli = async (...args: string[]) =>
    (await command("redis-cli", ["-p", String(port), ...args])).stdout;
  const start = async () => {
    const out = await command("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "yes",
      "--dir",
      dir,
      "--pidfile",
      `${dir}/redis.pid`,
      "--logfile",
      `${dir}/redis.log`,
    ]);
    if (out.code !== 0) throw new Error(`redis-server: ${out.stderr}`);
    for (let i = 0; i < 100; i++) {
      if ((await cli("PING")).trim() === "PONG") return;
      await sleep(50);
    }
    throw new Error("redis-server did not answer");
  };
  const stop = async () => {
    await cli("SHUTDOWN", "NOSAVE");
    for (let i = 0; i < 100; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      } catch {
        return;
      }
      await sleep(50);
    }
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop, cli };
}
