/**
 * The UDP client against a scripted module: the random tag (its length from
 * CVM_RANDOM_BYTES), resends on silence, and spoofed replies ignored.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import dgram from "node:dgram";
import { authenticatePassword } from "../../clients/client.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A success reply echoing `random`, for account "bob". */
function success(random: Uint8Array): Uint8Array {
  const facts = [[1, "bob"], [2, "1"], [3, "2"], [5, "/h"]] as const;
  const bytes = [0, random.length, ...random];
  for (const [type, value] of facts) {
    bytes.push(type, value.length, ...enc(value));
  }
  bytes.push(0);
  return new Uint8Array(bytes);
}

/** A UDP module whose answer to the n-th datagram `script` decides. */
async function scriptedModule(
  script: (
    n: number,
    request: Uint8Array,
    reply: (b: Uint8Array) => void,
  ) => void,
) {
  const socket = dgram.createSocket("udp4");
  let n = 0;
  socket.on("message", (msg: Uint8Array, peer: dgram.RemoteInfo) => {
    script(
      n++,
      new Uint8Array(msg),
      (b) => socket.send(b, peer.port, peer.address),
    );
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  return {
    module: `cvm-udp:127.0.0.1:${socket.address().port}`,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

Deno.test("UDP client sends $CVM_RANDOM_BYTES random bytes and accepts the reply that echoes them", async () => {
  const seen: number[] = [];
  const m = await scriptedModule((_n, request, reply) => {
    seen.push(request[1]);
    reply(success(request.slice(2, 2 + request[1])));
  });
  try {
    for (
      const [env, length] of [[{}, 8], [{ CVM_RANDOM_BYTES: "3" }, 3]] as const
    ) {
      const r = await authenticatePassword(m.module, {
        account: "bob",
        password: "x",
      }, {
        env: { ...env },
      });
      assertEquals(r.code, 0);
      assertEquals(seen.at(-1), length);
    }
  } finally {
    await m.close();
  }
});

Deno.test("UDP client ignores a reply with the wrong random tag and takes the genuine one", async () => {
  const m = await scriptedModule((_n, request, reply) => {
    const random = request.slice(2, 2 + request[1]);
    const forged = random.map((b) => b ^ 0xff);
    reply(new Uint8Array([100, forged.length, ...forged, 0])); // a spoofed rejection
    setTimeout(() => reply(success(random)), 20);
  });
  try {
    const r = await authenticatePassword(m.module, {
      account: "bob",
      password: "x",
    }, {
      env: {},
    });
    assertEquals(r.code, 0);
    assertEquals(r.facts.username, "bob");
  } finally {
    await m.close();
  }
});

Deno.test("UDP client resends on silence and gives IO after the last wait", async () => {
  const m = await scriptedModule((n, request, reply) => {
    if (n === 1) reply(success(request.slice(2, 2 + request[1]))); // answers the resend only
  });
  const silent = await scriptedModule(() => {});
  try {
    const r = await authenticatePassword(m.module, {
      account: "bob",
      password: "x",
    }, {
      env: {},
      udpWaitsMs: [100, 100, 100],
    });
    assertEquals(r.code, 0);
    const lost = await authenticatePassword(silent.module, {
      account: "bob",
      password: "x",
    }, {
      env: {},
      udpWaitsMs: [20, 20],
    });
    assertEquals(lost.code, 4);
  } finally {
    await m.close();
    await silent.close();
  }
});
