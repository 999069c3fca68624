import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  AnswerCache,
  CredentialKeys,
  decodeEntry,
  encodeEntry,
  MemoryStore,
  parseIp,
  Penalty,
} from "../../../modules/policy/mod.ts";
import type { Tagged } from "../../../protocol/mod.ts";

const enc = new TextEncoder();
const FACTS: Tagged[] = [
  { type: 1, value: enc.encode("bob") },
  { type: 5, value: enc.encode("/home/bob") },
];

function clockAt(start: number) {
  const clock = { now: start };
  return { clock, now: () => clock.now };
}

Deno.test("AnswerCache: a positive answer hits for its TTL, then stands in only within the stale window", async () => {
  const { clock, now } = clockAt(1_000_000);
  const cache = new AnswerCache(new MemoryStore(10), {
    ttlMs: 300_000,
    negativeTtlMs: 0,
    staleMs: 60_000,
  }, now);
  await cache.put("k", 0, FACTS);
  assert.deepEqual(await cache.get("k"), {
    code: 0,
    facts: FACTS,
    fresh: true,
  });
  clock.now += 299_999;
  assert.equal((await cache.get("k"))?.fresh, true);
  clock.now += 1;
  assert.deepEqual(await cache.get("k"), {
    code: 0,
    facts: FACTS,
    fresh: false,
  });
  clock.now += 59_999;
  assert.equal((await cache.get("k"))?.fresh, false);
  clock.now += 1;
  assert.equal(await cache.get("k"), undefined);
});

Deno.test("AnswerCache: rejections are kept for the negative TTL only, never stale; temporary failures never", async () => {
  const { clock, now } = clockAt(0);
  const oos = [{ type: 16, value: enc.encode("0") }];
  const withNegative = new AnswerCache(new MemoryStore(10), {
    ttlMs: 300_000,
    negativeTtlMs: 10_000,
    staleMs: 60_000,
  }, now);
  await withNegative.put("no", 100, oos);
  assert.deepEqual(await withNegative.get("no"), {
    code: 100,
    facts: oos,
    fresh: true,
  });
  clock.now += 10_000;
  assert.equal(await withNegative.get("no"), undefined);
  for (const code of [1, 2, 3, 4, 5, 6, 7, 111]) {
    await withNegative.put(`t${code}`, code, []);
    assert.equal(await withNegative.get(`t${code}`), undefined, `code ${code}`);
  }
  const positiveOnly = new AnswerCache(new MemoryStore(10), {
    ttlMs: 300_000,
    negativeTtlMs: 0,
    staleMs: 0,
  }, now);
  await positiveOnly.put("no", 100, oos);
  assert.equal(await positiveOnly.get("no"), undefined);
});

Deno.test("AnswerCache: clear() forgets every answer; the LRU keeps at most CVM_CACHE_SIZE", async () => {
  const store = new MemoryStore(3);
  const cache = new AnswerCache(store, {
    ttlMs: 60_000,
    negativeTtlMs: 0,
    staleMs: 0,
  });
  for (const k of ["a", "b", "c"]) await cache.put(k, 0, FACTS);
  await cache.get("a"); // a is now the most recently used
  await cache.put("d", 0, FACTS);
  assert.equal(await cache.get("b"), undefined);
  assert.ok(await cache.get("a"));
  assert.ok(await cache.get("d"));
  await cache.clear();
  assert.equal(await cache.get("a"), undefined);
});

Deno.test("decodeEntry() refuses truncated, trailing and temporary-failure entries", () => {
  const good = encodeEntry(5, 0, FACTS);
  assert.deepEqual(decodeEntry(good), { freshUntil: 5, code: 0, facts: FACTS });
  assert.equal(decodeEntry(good.subarray(0, good.length - 1)), undefined);
  assert.equal(
    decodeEntry(new Uint8Array([...good, 0])),
    undefined,
  );
  assert.equal(decodeEntry(encodeEntry(5, 4, [])), undefined);
});

Deno.test("CredentialKeys: every credential counts except the random tag and the address; scope and key separate", () => {
  const scope = { program: "cvm-pwfile", lookupMode: false };
  const keys = new CredentialKeys("k", scope);
  const base: Tagged[] = [
    { type: 1, value: enc.encode("bob") },
    { type: 3, value: enc.encode("pw") },
  ];
  const k = keys.of(2, base);
  assert.equal(k, keys.of(2, [...base].reverse()));
  assert.equal(
    k,
    keys.of(2, [...base, { type: 128, value: enc.encode("192.0.2.1") }]),
  );
  assert.notEqual(
    k,
    keys.of(2, [base[0], { type: 3, value: enc.encode("pW") }]),
  );
  assert.notEqual(
    k,
    keys.of(2, [...base, { type: 2, value: enc.encode("x") }]),
  );
  assert.notEqual(
    k,
    keys.of(2, [...base, { type: 4, value: enc.encode("s") }]),
  );
  assert.notEqual(k, keys.of(1, base));
  assert.notEqual(k, new CredentialKeys("other", scope).of(2, base));
  assert.notEqual(
    k,
    new CredentialKeys("k", { ...scope, lookupMode: true }).of(2, base),
  );
  assert.notEqual(
    k,
    new CredentialKeys("k", { ...scope, program: "cvm-unix" }).of(2, base),
  );
  // Without CVM_CACHE_KEY every process has its own key.
  assert.notEqual(
    new CredentialKeys(undefined, scope).of(2, base),
    new CredentialKeys(undefined, scope).of(2, base),
  );
  // Length-prefixed: moving a byte between credentials changes the key.
  assert.notEqual(
    keys.of(2, [{ type: 1, value: enc.encode("ab") }, {
      type: 3,
      value: enc.encode("c"),
    }]),
    keys.of(2, [{ type: 1, value: enc.encode("a") }, {
      type: 3,
      value: enc.encode("bc"),
    }]),
  );
});

Deno.test("no password, nor an unkeyed hash of one, is among the keys and values the cache and penalty hold", async () => {
  const password = "Corr3ct-Horse-Battery";
  const store = new MemoryStore(100);
  const keys = new CredentialKeys(undefined, {
    program: "cvm-pwfile",
    lookupMode: false,
  });
  const cache = new AnswerCache(store, {
    ttlMs: 60_000,
    negativeTtlMs: 60_000,
    staleMs: 60_000,
  });
  const penalty = new Penalty(store, { baseMs: 1, maxMs: 2, trusted: [] });
  for (const [pw, code] of [[password, 0], [password + "x", 100]] as const) {
    const creds: Tagged[] = [
      { type: 1, value: enc.encode("bob") },
      { type: 3, value: enc.encode(pw) },
    ];
    const key = keys.of(2, creds);
    const ticket = await penalty.begin(parseIp("192.0.2.1"), "bob", undefined);
    await cache.put(key, code, code === 0 ? FACTS : []);
    await penalty.finish(ticket, code, key);
  }
  const contents = store.contents();
  assert.ok(contents.length >= 3, "the store holds answers and counters");
  const text = contents.map(({ key, value }) =>
    key + " " +
    (value instanceof Uint8Array
      ? new TextDecoder().decode(value) + " " +
        Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")
      : JSON.stringify(value))
  ).join("\n");
  const forbidden = [password, password + "x"].flatMap((pw) => [
    pw,
    ...["md5", "sha1", "sha256", "sha512"].flatMap((algorithm) => [
      createHash(algorithm).update(pw).digest("hex"),
      createHash(algorithm).update(pw).digest("base64"),
    ]),
    Array.from(enc.encode(pw), (b) => b.toString(16).padStart(2, "0")).join(""),
  ]);
  for (const secret of forbidden) {
    assert.ok(!text.includes(secret), `found ${secret}`);
  }
});
