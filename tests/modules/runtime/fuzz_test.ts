/**
 * Malformed and mutated packets against the local and UDP servers: no
 * packet is ever accepted (the one account's password is never sent, and
 * the module checks passwords), every reply is a refusal (bad data, no
 * credential, refused), and the server keeps serving a valid
 * request between and after the flood.
 *
 * The packets come from a seeded generator, so a failure can be replayed:
 * `CVM_FUZZ_SEED` picks the seed (the failing one is in the message) and
 * `CVM_FUZZ_PACKETS` the count per mode (issue 9's probe sent 200,000).
 */
import assert from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import {
  CredentialType,
  encodeRequestV1,
  encodeRequestV2,
} from "../../../protocol/mod.ts";
import {
  dist,
  ensureDist,
  freeUdpPort,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";

const PACKETS = Number(Deno.env.get("CVM_FUZZ_PACKETS") ?? "1500");
const SEED = Number(Deno.env.get("CVM_FUZZ_SEED") ?? "20261202");
const enc = (s: string) => new TextEncoder().encode(s);

/** A small seeded generator (mulberry32): the same seed, the same packets. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { below: (n: number) => Math.floor(next() * n) };
}

/** Requests with a wrong password, the seeds of every mutation. */
const SEEDS: Uint8Array[] = [
  encodeRequestV2(enc("tag12345"), [
    { type: CredentialType.ACCOUNT, value: enc("bob") },
    { type: CredentialType.DOMAIN, value: enc("") },
    { type: CredentialType.PASSWORD, value: enc("wrong") },
  ]),
  encodeRequestV2(new Uint8Array(0), [
    { type: CredentialType.ACCOUNT, value: enc("bob") },
    { type: CredentialType.SECRET, value: enc("guess") },
  ]),
  encodeRequestV1(enc("bob"), enc(""), [enc("wrong")]),
];

/** The n-th packet: a seed with bytes flipped, cut, grown or spliced, or noise. */
function packets(seed: number, count: number): Uint8Array[] {
  const g = generator(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const base = SEEDS[g.below(SEEDS.length)];
    let p = Uint8Array.from(base);
    switch (g.below(5)) {
      case 0: // flip a few bytes
        for (let n = 1 + g.below(4); n > 0; n--) {
          p[g.below(p.length)] = g.below(256);
        }
        break;
      case 1: // cut short
        p = p.subarray(0, g.below(p.length));
        break;
      case 2: { // grow with noise, sometimes past 512 bytes
        const extra = new Uint8Array(g.below(2) ? g.below(16) : 500);
        for (let j = 0; j < extra.length; j++) extra[j] = g.below(256);
        const grown = new Uint8Array(p.length + extra.length);
        grown.set(p);
        grown.set(extra, p.length);
        p = grown;
        break;
      }
      case 3: // a length byte set wrong
        p[1 + g.below(Math.max(1, p.length - 1))] = g.below(256);
        break;
      default: { // noise
        p = new Uint8Array(g.below(600));
        for (let j = 0; j < p.length; j++) p[j] = g.below(256);
      }
    }
    out.push(p);
  }
  return out;
}

/**
 * The codes a server may answer a bad packet with: bad client data (2),
 * no credential it can check (7), or refused (100); never success (0).
 */
const REFUSALS = [2, 7, 100];

function checkReply(reply: Uint8Array, what: string) {
  if (reply.length === 0) return; // closed without a word: allowed
  assert.ok(
    REFUSALS.includes(reply[0]),
    `${what}: answered ${reply[0]} (seed ${SEED})`,
  );
}

async function withServer(
  program: string,
  args: (dir: string, port: number) => string[],
  fn: (server: Server, dir: string, port: number) => Promise<void>,
) {
  await ensureDist();
  const dir = tempDir();
  const passwd = `${dir.path}/passwd`;
  Deno.writeTextFileSync(passwd, "bob:s3cret:1000:1000:Bob:/home/bob:\n");
  const port = await freeUdpPort();
  // No $CVM_LOOKUP_SECRET: the module checks passwords, and a request
  // without the password (a secret, a challenge, nothing) is refused.
  const server = await startServer(`${dist}/${program}`, args(dir.path, port), {
    CVM_PWFILE_PATH: passwd,
  });
  try {
    await fn(server, dir.path, port);
  } finally {
    await server.stop();
    dir.cleanup();
  }
}

/** Sends one packet on its own connection and reads the reply to EOF. */
async function exchangeLocal(path: string, packet: Uint8Array) {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(packet).catch(() => {});
    await conn.closeWrite().catch(() => {});
    const chunks: number[] = [];
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(...buf.subarray(0, n));
    }
    return new Uint8Array(chunks);
  } finally {
    conn.close();
  }
}

Deno.test(`local server: ${PACKETS} mutated packets, none accepted, and it keeps serving`, async () => {
  await withServer(
    "cvm-pwfile-local",
    (dir) => [`${dir}/s.sock`],
    async (server, dir) => {
      const socket = `${dir}/s.sock`;
      const all = packets(SEED, PACKETS);
      for (let i = 0; i < all.length; i++) {
        checkReply(await exchangeLocal(socket, all[i]), `packet ${i}`);
        if (i % 500 === 499) {
          const ok = await authenticatePassword(`cvm-local:${socket}`, {
            account: "bob",
            password: "s3cret",
          });
          assert.equal(ok.code, 0, `after packet ${i}`);
        }
      }
      const ok = await authenticatePassword(`cvm-local:${socket}`, {
        account: "bob",
        password: "s3cret",
      });
      assert.equal(ok.code, 0);
      assert.ok(server.running());
      assert.doesNotMatch(server.stderr(), /error|panic|uncaught/i);
    },
  );
});

Deno.test(`UDP server: ${PACKETS} mutated datagrams, none accepted, and it keeps serving`, async () => {
  await withServer(
    "cvm-pwfile-udp",
    (_dir, port) => ["127.0.0.1", String(port)],
    async (server, _dir, port) => {
      const peer = { transport: "udp" as const, hostname: "127.0.0.1", port };
      const socket = Deno.listenDatagram({
        transport: "udp",
        hostname: "127.0.0.1",
        port: 0,
      });
      let replies = 0;
      const unexpected: number[] = [];
      const reading = (async () => {
        try {
          for await (const [reply] of socket) {
            replies++;
            if (!REFUSALS.includes(reply[0])) unexpected.push(reply[0]);
          }
        } catch { /* closed */ }
      })();
      const all = packets(SEED + 1, PACKETS);
      for (let i = 0; i < all.length; i++) {
        // An empty datagram cannot be sent on every stack; it is not news.
        if (all[i].length > 0) await socket.send(all[i], peer);
        // Paced, so that the server's bound on work in flight drops nothing
        // this test means to see answered.
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
      const ok = await authenticatePassword(`cvm-udp:127.0.0.1:${port}`, {
        account: "bob",
        password: "s3cret",
      });
      socket.close();
      await reading;
      assert.deepEqual(unexpected, [], `seed ${SEED + 1}`);
      assert.ok(replies > PACKETS / 2, `only ${replies} replies`);
      assert.equal(ok.code, 0);
      assert.ok(server.running());
      assert.doesNotMatch(server.stderr(), /error|panic|uncaught/i);
    },
  );
});
