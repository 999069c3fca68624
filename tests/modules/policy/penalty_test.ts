import assert from "node:assert/strict";
import {
  MemoryStore,
  parseIp,
  parseNetworks,
  Penalty,
  penaltyDelay,
} from "../../../modules/policy/mod.ts";

/** The base delay of these tests: short, but far above timer noise. */
const BASE = 200;

function penalty(maxMs = 16 * BASE, trusted = "") {
  return new Penalty(new MemoryStore(100), {
    baseMs: BASE,
    maxMs,
    trusted: parseNetworks(trusted, "CVM_PENALTY_TRUSTED"),
  });
}

/** One attempt: how long its wait took (ms), then its result recorded. */
async function attempt(
  p: Penalty,
  address: string | undefined,
  account: string,
  code: number,
  credential: string,
): Promise<number> {
  const start = performance.now();
  const ticket = await p.begin(
    address === undefined ? undefined : parseIp(address),
    account,
    undefined,
  );
  const waited = performance.now() - start;
  await p.finish(ticket, code, credential);
  return waited;
}

function assertRatio(actual: number, expected: number, what: string) {
  assert.ok(
    actual > expected * 0.6 && actual < expected * 1.6,
    `${what}: ratio ${actual.toFixed(2)}, expected about ${expected}`,
  );
}

Deno.test("penaltyDelay() doubles from the base to the cap", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 60].map((n) => penaltyDelay(n, 2000, 15000)),
    [0, 2000, 4000, 8000, 15000, 15000, 15000],
  );
});

Deno.test("Penalty: each failure from an address doubles the next attempt's wait, up to the cap", async () => {
  const p = penalty(4 * BASE);
  const waits: number[] = [];
  // Different accounts: only the address counter grows.
  for (let i = 0; i < 5; i++) {
    waits.push(await attempt(p, "192.0.2.1", `user${i}`, 100, `cred${i}`));
  }
  // waits ≈ 0, B, 2B, 4B, 4B (capped)
  assert.ok(waits[0] < waits[1] * 0.3, `first attempt waits: ${waits}`);
  assertRatio(waits[2] / waits[1], 2, "2nd/1st penalty");
  assertRatio(waits[3] / waits[2], 2, "3rd/2nd penalty");
  assertRatio(waits[4] / waits[3], 1, "capped/capped");
});

Deno.test("Penalty: one account tried from many addresses is slowed too", async () => {
  const p = penalty();
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    waits.push(await attempt(p, `198.51.100.${i + 1}`, "bob", 100, `c${i}`));
  }
  assert.ok(waits[0] < waits[1] * 0.3, `${waits}`);
  assertRatio(waits[2] / waits[1], 2, "2nd/1st");
  assertRatio(waits[3] / waits[2], 2, "3rd/2nd");
});

Deno.test("Penalty: a success from that address for that account resets it", async () => {
  const p = penalty();
  for (let i = 0; i < 3; i++) {
    await attempt(p, "192.0.2.1", "bob", 100, `wrong${i}`);
  }
  const penalized = await attempt(p, "192.0.2.1", "bob", 0, "right");
  const after = await attempt(p, "192.0.2.1", "bob", 100, "wrong-again");
  assert.ok(after < penalized * 0.2, `after ${after}, penalized ${penalized}`);
  assert.equal(p.active(), 2, "the new failure counts again");
});

Deno.test("Penalty: the same account and password failing again does not raise it", async () => {
  const p = penalty();
  await attempt(p, "192.0.2.1", "bob", 100, "old-saved-password");
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    waits.push(await attempt(p, "192.0.2.1", "bob", 100, "old-saved-password"));
  }
  for (let i = 1; i < waits.length; i++) {
    assertRatio(waits[i] / waits[0], 1, `repeat ${i}`);
  }
  // A new password does raise it.
  const fresh = await attempt(p, "192.0.2.1", "bob", 100, "another");
  const next = await attempt(p, "192.0.2.1", "bob", 100, "yet-another");
  assertRatio(next / fresh, 2, "new passwords");
});

Deno.test("Penalty: a temporary failure takes its count back", async () => {
  const p = penalty();
  await attempt(p, "192.0.2.1", "bob", 100, "a");
  const first = await attempt(p, "192.0.2.1", "bob", 4, "b");
  const second = await attempt(p, "192.0.2.1", "bob", 4, "c");
  assertRatio(second / first, 1, "temporary failures");
});

Deno.test("Penalty: trusted networks are neither delayed nor counted", async () => {
  const p = penalty(16 * BASE, "192.0.2.0/24, 2001:db8::/32");
  const trusted: number[] = [];
  for (let i = 0; i < 4; i++) {
    trusted.push(await attempt(p, "192.0.2.7", "bob", 100, `t${i}`));
    trusted.push(await attempt(p, "2001:db8::7", "bob", 100, `u${i}`));
  }
  assert.equal(p.active(), 0);
  // bob's account counter was not raised by them either.
  const outside = await attempt(p, "203.0.113.1", "bob", 100, "x");
  const outsideAgain = await attempt(p, "203.0.113.1", "bob", 100, "y");
  assert.ok(
    Math.max(...trusted, outside) < outsideAgain * 0.3,
    `trusted ${trusted}, outside ${outside}, then ${outsideAgain}`,
  );
});

Deno.test("Penalty: parallel attempts are counted as they start, so they wait as sequential ones do", async () => {
  const p = penalty();
  // Five guesses at once, for five accounts, from one fresh address.
  const waits = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      attempt(p, "192.0.2.50", `acct${i}`, 100, `g${i}`)
    ),
  );
  waits.sort((a, b) => a - b);
  assert.ok(waits[0] < waits[1] * 0.3, `${waits}`);
  assertRatio(waits[2] / waits[1], 2, "parallel 2nd/1st");
  assertRatio(waits[3] / waits[2], 2, "parallel 3rd/2nd");
  assertRatio(waits[4] / waits[3], 2, "parallel 4th/3rd");
});

Deno.test("Penalty: parallel attempts waiting behind one that succeeds go at once", async () => {
  const p = new Penalty(new MemoryStore(10), {
    baseMs: 4000,
    maxMs: 15000,
    trusted: [],
  });
  const address = parseIp("192.0.2.60");
  const first = await p.begin(address, "bob", undefined);
  const started = performance.now();
  const second = p.begin(address, "bob", undefined);
  await new Promise((r) => setTimeout(r, 50));
  await p.finish(first, 0, "right");
  await p.finish(await second, 0, "right");
  const waited = performance.now() - started;
  assert.ok(waited < 4000 * 0.5, `waited ${waited} ms behind a success`);
});

Deno.test("Penalty: one address does not slow another; IPv6 counts per /64", async () => {
  const p = penalty();
  const slowed: number[] = [];
  for (let i = 0; i < 4; i++) {
    slowed.push(await attempt(p, "192.0.2.1", `a${i}`, 100, `x${i}`));
  }
  const other = await attempt(p, "192.0.2.2", "someone", 100, "y");
  assert.ok(other < slowed[3] * 0.2, `other ${other}, slowed ${slowed}`);
  // Two addresses in one /64 share a counter; the next /64 does not.
  const v6: number[] = [];
  for (let i = 0; i < 3; i++) {
    v6.push(await attempt(p, `2001:db8:0:1::${i + 1}`, `b${i}`, 100, `z${i}`));
  }
  const nextNet = await attempt(p, "2001:db8:0:2::1", "c", 100, "w");
  assertRatio(v6[2] / v6[1], 2, "same /64");
  assert.ok(nextNet < v6[2] * 0.2, `next /64 ${nextNet}, same /64 ${v6}`);
});
