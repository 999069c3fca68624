/**
 * The cache in front of a real database: a stale answer stands in through
 * an outage (made with a loopback proxy; the shared PostgreSQL is never
 * stopped), temporary failures are never kept, and a changed password is
 * seen once the TTL has passed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPgSchema, PG, serviceAvailable } from "../sql/_helpers.ts";
import { startProxy } from "../sql/_proxy.ts";
import { tempDir } from "../../_helpers.ts";
import { ask, freeTcpPort, logged, startModule } from "./_servers.ts";

const ROW = {
  domain: "example.com",
  userid: "1000",
  groupid: "100",
  directory: "/home/x",
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("cvm-pgsql with the cache: stale answers through a database outage, temporary failures never cached", async () => {
  if (!(await serviceAvailable("PostgreSQL", PG.port))) return;
  const schema = await createPgSchema([
    { ...ROW, username: "bob", password: "pw" },
    { ...ROW, username: "carol", password: "pw3" },
  ]);
  const proxy = startProxy(PG.port);
  const dir = tempDir();
  const metrics = freeTcpPort();
  const module = await startModule("cvm-pgsql", "local", {
    ...schema.env,
    PGPORT: String(proxy.port),
    CVM_SQL_TIMEOUT: "2",
    CVM_CACHE_TTL: "1",
    CVM_CACHE_STALE: "3600",
    CVM_METRICS: `127.0.0.1:${metrics}`,
  }, dir.path);
  try {
    assert.equal((await ask(module, "bob@example.com", "pw")).code, 0);
    await proxy.stop(); // the database goes away
    await sleep(1200); // past the TTL
    const stale = await ask(module, "bob@example.com", "pw");
    assert.equal(stale.code, 0);
    assert.equal(stale.username, "bob");
    await logged(module, /^\+ bob@example\.com stale$/);
    // A wrong password has no positive answer to stand in: temporary.
    const wrong = await ask(module, "bob@example.com", "wrong");
    assert.equal(wrong.code, 4);
    const carol = await ask(module, "carol@example.com", "pw3");
    assert.equal(carol.code, 4);
    proxy.start(); // it comes back
    let back = 4;
    for (let i = 0; i < 50 && back !== 0; i++) {
      back = (await ask(module, "carol@example.com", "pw3")).code;
      if (back !== 0) await sleep(100);
    }
    assert.equal(back, 0, "carol's temporary failure was not cached");
    assert.equal((await ask(module, "bob@example.com", "wrong")).code, 100);
    await module.server!.waitForLines(7);
    const lines = module.server!.log.slice(1).filter((l) =>
      !l.startsWith("? carol")
    );
    assert.deepEqual(lines, [
      "+ bob@example.com",
      "+ bob@example.com stale",
      "? bob@example.com",
      "+ carol@example.com",
      "- bob@example.com",
    ]);
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`))
      .text();
    assert.match(text, /^cvm_cache_stale_total 1$/m);
    assert.match(text, /^cvm_backend_temporary_failures_total [2-9][0-9]*$/m);
  } finally {
    await module.stop();
    await proxy.close();
    await schema.drop();
    dir.cleanup();
  }
});

Deno.test("cvm-pgsql with the cache: a changed password is seen once the TTL has passed", async () => {
  if (!(await serviceAvailable("PostgreSQL", PG.port))) return;
  const schema = await createPgSchema([
    { ...ROW, username: "bob", password: "old" },
  ]);
  const dir = tempDir();
  const module = await startModule("cvm-pgsql", "local", {
    ...schema.env,
    CVM_CACHE_TTL: "1",
    CVM_CACHE_NEGATIVE_TTL: "1",
  }, dir.path);
  try {
    assert.equal((await ask(module, "bob@example.com", "old")).code, 0);
    assert.equal((await ask(module, "bob@example.com", "new")).code, 100);
    await schema.exec("UPDATE accounts SET password = 'new'");
    // Within the TTL both answers come from the cache.
    assert.equal((await ask(module, "bob@example.com", "old")).code, 0);
    assert.equal((await ask(module, "bob@example.com", "new")).code, 100);
    await sleep(1200);
    assert.equal((await ask(module, "bob@example.com", "old")).code, 100);
    assert.equal((await ask(module, "bob@example.com", "new")).code, 0);
  } finally {
    await module.stop();
    await schema.drop();
    dir.cleanup();
  }
});

Deno.test("cvm-pgsql with the cache: SIGHUP empties it", async () => {
  if (!(await serviceAvailable("PostgreSQL", PG.port))) return;
  const schema = await createPgSchema([
    { ...ROW, username: "bob", password: "old" },
  ]);
  const dir = tempDir();
  const module = await startModule("cvm-pgsql", "local", {
    ...schema.env,
    CVM_CACHE_TTL: "300",
  }, dir.path);
  try {
    assert.equal((await ask(module, "bob@example.com", "old")).code, 0);
    await schema.exec("UPDATE accounts SET password = 'new'");
    assert.equal((await ask(module, "bob@example.com", "old")).code, 0);
    Deno.kill(module.server!.pid, "SIGHUP");
    await logged(module, /^Reloading\.$/);
    assert.equal((await ask(module, "bob@example.com", "old")).code, 100);
    assert.equal((await ask(module, "bob@example.com", "new")).code, 0);
  } finally {
    await module.stop();
    await schema.drop();
    dir.cleanup();
  }
});
