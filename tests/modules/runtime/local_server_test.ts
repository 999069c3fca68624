/**
 * Our local-socket server under bad and heavy use: silent clients, garbage,
 * many clients at once; its log lines; its socket settings; its shutdown.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { authenticatePassword } from "../../../clients/client.ts";
import {
  dist,
  ensureDist,
  eventually,
  SAMPLE_PASSWD,
  startServer,
  tempDir,
} from "../../_helpers.ts";

async function exchange(path: string, bytes: Uint8Array, halfClose = true) {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(bytes);
    if (halfClose) await conn.closeWrite();
    const buf = new Uint8Array(600);
    let n = 0;
    for (;;) {
      const r = await conn.read(buf.subarray(n));
      if (r === null) break;
      n += r;
    }
    return Array.from(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

async function withServer(
  env: Record<string, string>,
  fn: (
    sock: string,
    server: Awaited<ReturnType<typeof startServer>>,
    passwdPath: string,
  ) => Promise<void>,
) {
  await ensureDist();
  const dir = tempDir();
  const pw = `${dir.path}/passwd`;
  Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
  const sock = `${dir.path}/s`;
  const server = await startServer(
    `${dist}/cvm-pwfile`,
    [`cvm-local:${sock}`],
    {
      CVM_PWFILE_PATH: pw,
      ...env,
    },
  );
  try {
    await fn(sock, server, pw);
  } finally {
    await server.stop();
    dir.cleanup();
  }
}

Deno.test("local server answers garbage with BAD_CLIDATA and keeps serving", async () => {
  await withServer({}, async (sock) => {
    assertEquals(await exchange(sock, new Uint8Array([5, 1, 2, 3])), [2, 0]);
    assertEquals(await exchange(sock, new Uint8Array([2])), [2, 0, 0]);
    assertEquals(await exchange(sock, new Uint8Array(600).fill(2)), [2, 0, 0]);
    const ok = await authenticatePassword(`cvm-local:${sock}`, {
      account: "bob",
      password: "pw2",
    });
    assertEquals(ok.code, 0);
  });
});

Deno.test("local server drops a client that sends nothing and still serves others meanwhile", async () => {
  await withServer({ CVM_LOCAL_TIMEOUT: "300" }, async (sock) => {
    const silent = await Deno.connect({ transport: "unix", path: sock });
    try {
      // While the silent client is connected, others are served.
      const ok = await authenticatePassword(`cvm-local:${sock}`, {
        account: "pwfuser",
        password: "secret",
      });
      assertEquals(ok.code, 0);
      // The server hangs up on the silent one after its timeout: EOF, no reply.
      const buf = new Uint8Array(16);
      const n = await silent.read(buf);
      assertEquals(n, null);
    } finally {
      silent.close();
    }
  });
});

Deno.test("local server serves 1,000 requests from 16 clients at once without a failure", async () => {
  await withServer({}, async (sock) => {
    let failures = 0;
    let started = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (started < 1000) {
        const good = started++ % 3 !== 0;
        const r = await authenticatePassword(`cvm-local:${sock}`, {
          account: "pwfuser",
          password: good ? "secret" : "nope",
        });
        if (r.code !== (good ? 0 : 100)) failures++;
      }
    }));
    assertEquals(started, 1000);
    assertEquals(failures, 0);
  });
});

Deno.test("local server logs +, - and ? lines with @domain only when a domain was sent", async () => {
  await withServer({}, async (sock, server) => {
    const m = `cvm-local:${sock}`;
    await authenticatePassword(m, { account: "bob", password: "pw2" });
    await authenticatePassword(m, { account: "bob@dd.com", password: "pw2" });
    await authenticatePassword(m, { account: "bob", password: "bad" });
    await authenticatePassword(m, { account: "bob" });
    await authenticatePassword(m, { account: "evil\nfake", password: "x" });
    await exchange(sock, new Uint8Array([9]));
    await server.waitFor(/^\? $/);
    assertEquals(server.log, [
      "Starting.",
      "+ bob",
      "+ bob@dd.com",
      "- bob",
      "? bob",
      "- evil?fake",
      "? ",
    ]);
    assert.ok(!server.log.join("\n").includes("pw2"));
  });
});

Deno.test("local server applies CVM_SOCKET_MODE and removes its socket and logs Stopping. on SIGTERM", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const sock = `${dir.path}/s`;
    const server = await startServer(`${dist}/cvm-pwfile`, [
      `cvm-local:${sock}`,
    ], {
      CVM_PWFILE_PATH: pw,
      CVM_SOCKET_MODE: "660",
      CVM_SOCKET_GROUP: "mail",
    });
    const info = Deno.statSync(sock);
    assertEquals(info.mode! & 0o777, 0o660);
    assertEquals(info.gid, 8);
    assertEquals(await server.stop(), 0);
    assertEquals(server.log.at(-1), "Stopping.");
    assert.throws(() => Deno.statSync(sock));
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-pwfile-local PATH is the same module with local mode fixed", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    const pw = `${dir.path}/passwd`;
    Deno.writeTextFileSync(pw, SAMPLE_PASSWD);
    const sock = `${dir.path}/s`;
    const server = await startServer(`${dist}/cvm-pwfile-local`, [sock], {
      CVM_PWFILE_PATH: pw,
    });
    try {
      const r = await authenticatePassword(`cvm-local:${sock}`, {
        account: "bob",
        password: "pw2",
      });
      assertEquals(r.code, 0);
      assertEquals(r.facts.username, "Bob");
    } finally {
      await server.stop();
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("server mode re-reads the passwd file when it changes (within a second)", async () => {
  await withServer({}, async (sock, _server, pw) => {
    const m = `cvm-local:${sock}`;
    const login = () =>
      authenticatePassword(m, { account: "newbie", password: "n3w" });
    assertEquals((await login()).code, 100);
    Deno.writeTextFileSync(
      pw,
      SAMPLE_PASSWD + "newbie:n3w:2000:2000::/home/newbie:\n",
    );
    const after = await eventually(login, (r) => r.code === 0);
    assertEquals(after.code, 0);
    assertEquals(after.facts.userid, 2000);
  });
});
