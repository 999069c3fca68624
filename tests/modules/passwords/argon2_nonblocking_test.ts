/**
 * Hashing does not block the server: while one client's Argon2 check runs
 * (on a worker), a plain-password client of the same cvm-pwfile server is
 * answered at once. Ratios only: each plain answer during the Argon2 check
 * takes a small fraction of that check, and all of them come before it
 * ends; computed on the event loop instead, each would wait for it.
 */

import assert from "node:assert/strict";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { authenticatePassword } from "../../../clients/mod.ts";
import { dist, ensureDist, run, startServer, tempDir } from "../../_helpers.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

Deno.test({
  name:
    "a slow Argon2 check does not delay a plain-password client of the same server",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureDist();
    const dir = tempDir();
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      // Four passes over 64 MiB: the best part of a second here.
      const made = await run(
        `${dist}/cvm`,
        ["pw", "-s", "ARGON2ID", "-r", "4", "-m", "65536"],
        { stdin: new TextEncoder().encode("slow pw\n") },
      );
      assertEquals(made.code, 0, made.stderr);
      const path = `${dir.path}/passwd`;
      Deno.writeTextFileSync(
        path,
        `slow:${made.stdout.trim()}:1:1::/home/slow:\nfast:{PLAIN}fast pw:2:2::/home/fast:\n`,
      );
      const socket = `${dir.path}/pwfile.sock`;
      server = await startServer(
        `${dist}/cvm-pwfile`,
        [`cvm-local:${socket}`],
        {
          CVM_PWFILE_PATH: path,
          CVM_PWFILE_PWCMP: "scheme",
        },
      );
      const module = `cvm-local:${socket}`;
      const ask = async (account: string, password: string) => {
        const start = performance.now();
        const { code } = await authenticatePassword(module, {
          account,
          password,
        });
        return { code, ms: performance.now() - start, end: performance.now() };
      };
      // Warm up both paths (the worker starts on the first Argon2 check).
      assertEquals((await ask("slow", "slow pw")).code, 0);
      assertEquals((await ask("fast", "fast pw")).code, 0);

      for (let round = 0; round < 2; round++) {
        const slow = ask("slow", "slow pw");
        const during: { code: number; ms: number; end: number }[] = [];
        for (let i = 0; i < 5; i++) during.push(await ask("fast", "fast pw"));
        const argon2 = await slow;
        assertEquals(argon2.code, 0);
        for (const answer of during) assertEquals(answer.code, 0);
        // Every plain answer came while the Argon2 check was still running…
        assert(
          during.every((answer) => answer.end < argon2.end),
          `plain answers at ${during.map((a) => a.end.toFixed(0))}, Argon2 at ${
            argon2.end.toFixed(0)
          }`,
        );
        // …and each took a small fraction of it.
        const typical = median(during.map((a) => a.ms));
        assert(
          typical * 10 < argon2.ms,
          `plain ${typical.toFixed(1)} ms against Argon2 ${
            argon2.ms.toFixed(0)
          } ms`,
        );
      }
    } finally {
      await server?.stop();
      dir.cleanup();
    }
  },
});
