/**
 * The local and UDP servers write a request's log line before they send its
 * reply, as the reference's do: a script that runs a client and then reads
 * the log's last line (the upstream test suite does exactly that) must see
 * that client's line every time, never the one before it.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import {
  CredentialType,
  encodeRequestV2,
  MAX_PACKET,
  parseResponseV2,
  toBytes,
} from "../../../protocol/mod.ts";
import {
  dist,
  ensureDist,
  freeUdpPort,
  SAMPLE_PASSWD,
  tempDir,
} from "../../_helpers.ts";

const ROUNDS = 200;

/** The last complete line of a file ("" when there is none). */
function lastLine(path: string): string {
  const lines = Deno.readTextFileSync(path).split("\n");
  return lines.length >= 2 ? lines[lines.length - 2] : "";
}

/**
 * Starts a module server with its stdout going to a file, as under a
 * supervisor that logs to a file, and waits for `Starting.`.
 */
async function startLoggingToFile(
  args: string[],
  env: Record<string, string>,
  log: string,
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("/usr/bin/env", {
    args: [
      "--default-signal=PIPE",
      "sh",
      "-c",
      `exec "$0" "$@" >'${log}'`,
      `${dist}/cvm-pwfile`,
      ...args,
    ],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 500; i++) {
    try {
      if (Deno.readTextFileSync(log).startsWith("Starting.\n")) return child;
    } catch { /* not created yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGTERM");
  await child.status;
  throw new Error("the server did not start");
}

/**
 * One request over a Unix socket from a client that stops reading as soon
 * as its reply is complete, without waiting for the server to close the
 * connection (the reference's clients read to the close, which hides the
 * order in local mode).
 */
async function askLocal(path: string, account: string): Promise<number> {
  const random = new Uint8Array(8).fill(0x41);
  const request = encodeRequestV2(random, [
    { type: CredentialType.ACCOUNT, value: toBytes(account) },
    { type: CredentialType.PASSWORD, value: toBytes("secret") },
  ]);
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(request);
    await conn.closeWrite();
    const buffer = new Uint8Array(MAX_PACKET);
    let length = 0;
    for (;;) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) throw new Error("the server closed before its reply");
      length += n;
      const reply = buffer.subarray(0, length);
      const parsed = parseResponseV2(reply, random);
      if (parsed.ok && reply[length - 1] === 0) return parsed.value.code;
    }
  } finally {
    conn.close();
  }
}

/**
 * Asks the server ROUNDS times, alternating an accepted login and an
 * unknown account whose name changes every round, and reads the log's last
 * line as soon as each answer is in: no process start-up stands between
 * the reply and the read, so a line written after the reply is caught.
 */
async function everyLineBeforeItsReply(
  ask: (account: string) => Promise<number>,
  log: string,
) {
  const wrong: string[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ok = i % 2 === 0;
    const account = ok ? "pwfuser" : `nobody${i}`;
    assertEquals(await ask(account), ok ? 0 : 100);
    const line = lastLine(log);
    const expected = ok ? "+ pwfuser" : `- ${account}`;
    if (line !== expected) wrong.push(`round ${i}: ${line} (not ${expected})`);
  }
  assertEquals(wrong, []);
}

Deno.test({
  name:
    "local server: the log's last line is the client's own, read as soon as each of 200 clients has its answer",
  sanitizeResources: false,
  async fn() {
    await ensureDist();
    const dir = tempDir();
    try {
      Deno.writeTextFileSync(`${dir.path}/passwd`, SAMPLE_PASSWD);
      const socket = `${dir.path}/socket`;
      const log = `${dir.path}/log`;
      const server = await startLoggingToFile(
        [`cvm-local:${socket}`],
        { CVM_PWFILE_PATH: `${dir.path}/passwd` },
        log,
      );
      try {
        await everyLineBeforeItsReply(
          (account) => askLocal(socket, account),
          log,
        );
      } finally {
        server.kill("SIGTERM");
        await server.status;
      }
    } finally {
      dir.cleanup();
    }
  },
});

Deno.test({
  name:
    "UDP server: the log's last line is the client's own, read as soon as each of 200 clients has its answer",
  sanitizeResources: false,
  async fn() {
    await ensureDist();
    const dir = tempDir();
    try {
      Deno.writeTextFileSync(`${dir.path}/passwd`, SAMPLE_PASSWD);
      const port = await freeUdpPort();
      const log = `${dir.path}/log`;
      const server = await startLoggingToFile(
        [`cvm-udp:127.0.0.1:${port}`],
        { CVM_PWFILE_PATH: `${dir.path}/passwd` },
        log,
      );
      try {
        // The client library: a datagram is complete when it arrives.
        await everyLineBeforeItsReply(
          async (account) =>
            (await authenticatePassword(`cvm-udp:127.0.0.1:${port}`, {
              account,
              password: "secret",
            }, { env: {} })).code,
          log,
        );
      } finally {
        server.kill("SIGTERM");
        await server.status;
      }
    } finally {
      dir.cleanup();
    }
  },
});
