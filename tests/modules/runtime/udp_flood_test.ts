/**
 * A UDP server under a flood of wrong passwords for an account with an
 * expensive crypt hash: its memory stays bounded (it takes on a bounded
 * amount of work and hashes one password per CPU at a time), it still
 * answers afterwards, and SIGTERM in the middle of a flood ends it long
 * before the flood's work could have been done.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import { CredentialType, encodeRequestV2 } from "../../../protocol/mod.ts";
import { crypt } from "../../../sys/crypt.ts";
import {
  dist,
  ensureDist,
  freeUdpPort,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** The resident set size of a process, in kB. */
function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)![1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Rig {
  server: Server;
  module: string;
  port: number;
  /** Median time of one wrong-password answer at rest, in ms. */
  hashMs: number;
}

/**
 * Starts cvm-pwfile-udp in crypt mode with one account, `flood`, whose
 * hash is made with `setting`, and times a few wrong passwords at rest.
 */
async function withFloodServer(
  setting: string,
  fn: (rig: Rig) => Promise<void>,
): Promise<void> {
  await ensureDist();
  const dir = tempDir();
  const hash = await crypt(enc("right"), setting);
  assert.ok(hash !== undefined);
  const pw = `${dir.path}/passwd`;
  Deno.writeTextFileSync(pw, `flood:${hash}:1000:1000::/home/flood:\n`);
  const port = await freeUdpPort();
  const server = await startServer(`${dist}/cvm-pwfile-udp`, [
    "127.0.0.1",
    String(port),
  ], { CVM_PWFILE_PATH: pw, CVM_PWFILE_PWCMP: "crypt" });
  try {
    const module = `cvm-udp:127.0.0.1:${port}`;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const r = await authenticatePassword(module, {
        account: "flood",
        password: "wrong",
      });
      times.push(performance.now() - start);
      assertEquals(r.code, 100);
    }
    await fn({ server, module, port, hashMs: median(times) });
  } finally {
    if (server.running()) Deno.kill(server.pid, "SIGKILL");
    await server.stop();
    dir.cleanup();
  }
}

/**
 * Sends `count` wrong-password datagrams as fast as it can, calling
 * `watch` every 50; stops early when `watch` returns false.
 */
async function flood(
  port: number,
  count: number,
  watch: () => boolean = () => true,
): Promise<number> {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const request = encodeRequestV2(crypto.getRandomValues(new Uint8Array(8)), [
    { type: CredentialType.ACCOUNT, value: enc("flood") },
    { type: CredentialType.PASSWORD, value: enc("wrong") },
  ]);
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
  let sent = 0;
  try {
    while (sent < count) {
      await socket.send(request, to);
      sent++;
      if (sent % 50 === 0) {
        if (!watch()) break;
        await new Promise((r) => setTimeout(r, 0));
      }
    }
  } finally {
    socket.close();
  }
  return sent;
}

Deno.test("UDP server under a flood of wrong passwords for a yescrypt account keeps its memory bounded and still answers", async () => {
  await withFloodServer("$y$j9T$saltsaltsaltsalt$", async (rig) => {
    const idle = rss(rig.server.pid);
    // Generous: every hash at once would take 16 MiB each, hundreds of
    // them; one per CPU stays far below.
    const bound = 3 * idle;
    let peak = idle;
    const watch = () => {
      peak = Math.max(peak, rss(rig.server.pid));
      return peak <= bound;
    };
    const sent = await flood(rig.port, 3000, watch);
    // The work taken on goes on after the sending stops: keep watching for
    // as long as a hundred hashes take.
    for (let i = 0; i < 50 && watch(); i++) {
      await new Promise((r) => setTimeout(r, rig.hashMs * 2));
    }
    assert.ok(
      peak <= bound,
      `RSS rose from ${idle} kB to ${peak} kB (bound ${bound}) after ${sent} datagrams`,
    );
    // Still serving: the client resends until the backlog is through.
    const r = await authenticatePassword(rig.module, {
      account: "flood",
      password: "right",
    });
    assertEquals(r.code, 0);
    assert.ok(rig.server.running());
    // What it dropped, it said (once).
    assert.match(
      rig.server.stderr(),
      /^cvm-pwfile-udp: 256 requests in flight: dropping datagrams until there is room$/m,
    );
  });
});

Deno.test("UDP server stops on SIGTERM during a flood long before the flood's work could be done", async () => {
  // SHA-512 with many rounds: slow, and without yescrypt's memory.
  await withFloodServer("$6$rounds=100000$saltsalt$", async (rig) => {
    const sent = await flood(rig.port, 2000);
    // What the datagrams sent ask for, one hash per CPU at a time.
    const cpus = navigator.hardwareConcurrency || 1;
    const floodWorkMs = sent * rig.hashMs / cpus;
    const start = performance.now();
    const stopped = rig.server.stop();
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      Deno.kill(rig.server.pid, "SIGKILL");
    }, floodWorkMs / 8);
    const code = await stopped;
    clearTimeout(timer);
    const stopMs = performance.now() - start;
    assert.ok(
      !late,
      `still running ${
        Math.round(stopMs)
      } ms after SIGTERM; the flood's work takes about ${
        Math.round(floodWorkMs)
      } ms`,
    );
    assertEquals(code, 0);
    assertEquals(rig.server.log.at(-1), "Stopping.");
  });
});
