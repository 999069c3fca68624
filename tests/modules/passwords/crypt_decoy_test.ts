/**
 * CryptDecoy: a check against a locked or empty stored hash, or for an
 * account that does not exist, costs what a real hash of the store's
 * scheme and cost does, and never accepts. Times are compared as ratios of
 * medians with generous margins, never as durations.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import {
  CryptDecoy,
  firstHash,
  looksLikeHash,
} from "../../../modules/passwords/crypt_decoy.ts";
import { crypt } from "../../../sys/crypt.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const PASSWORD = bytes("correct horse");

async function hashOf(password: Uint8Array, setting: string): Promise<string> {
  const hash = await crypt(password, setting);
  if (hash === undefined) throw new Error(`crypt refused ${setting}`);
  return hash;
}

/** The median time of `fn`, in ms, over `rounds` runs after one warm-up. */
async function median(fn: () => Promise<unknown>, rounds = 7): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

/** Medians of `a` and `b` measured in turn, so load hits both alike. */
async function medianPair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  rounds = 7,
): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  await a();
  await b();
  for (let i = 0; i < rounds; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const start = performance.now();
      await fn();
      times[k].push(performance.now() - start);
    }
  }
  const mid = (xs: number[]) =>
    xs.sort((x, y) => x - y)[Math.floor(rounds / 2)];
  return [mid(times[0]), mid(times[1])];
}

function similar(a: number, b: number, what: string): void {
  const ratio = Math.max(a, b) / Math.max(Math.min(a, b), 1e-3);
  assert(ratio < 3, `${what}: medians ${a.toFixed(2)} and ${b.toFixed(2)} ms`);
}

Deno.test("looksLikeHash() and firstHash() tell hashes from locks, plain text and empty", () => {
  for (
    const hash of [
      "$6$salt$h",
      "$y$j9T$s$h",
      "$2b$05$x",
      "abhfCpXqd4GrI",
      "_J9..CCCCXBrJUJV154M",
    ]
  ) {
    assert(looksLikeHash(hash), hash);
  }
  for (
    const lock of ["", "*", "!", "!!", "x", "!$6$salt$h", "*LK*", "secret"]
  ) {
    assert(!looksLikeHash(lock), lock);
  }
  assertEquals(firstHash(["*", "x", "!$6$s$h", "$5$s$h", "$6$s$h"]), "$5$s$h");
  assertEquals(firstHash(["*", "secret"]), undefined);
});

Deno.test("CryptDecoy.verify() accepts only the right password for a real hash, as verifyCrypt()", async () => {
  const hash = await hashOf(PASSWORD, "$6$saltsaltsalt$");
  const decoy = new CryptDecoy(() => hash);
  assertEquals(await decoy.verify(PASSWORD, hash), true);
  assertEquals(await decoy.verify(bytes("Correct horse"), hash), false);
  assertEquals(await decoy.verify(PASSWORD, hash.slice(0, -1)), false);
});

Deno.test("CryptDecoy never accepts: a locked or empty stored hash, nor the sample's own password", async () => {
  const hash = await hashOf(PASSWORD, "$5$saltsaltsalt$");
  const decoy = new CryptDecoy(() => hash);
  for (const stored of ["", "*", "!", `!${hash}`, `*${hash}`, "x", "ab"]) {
    assertEquals(await decoy.verify(PASSWORD, stored), false, stored);
  }
  assertEquals(await decoy.reject(PASSWORD), false);
  assertEquals(await new CryptDecoy().reject(PASSWORD), false);
  assertEquals(await decoy.reject(undefined), false);
});

Deno.test("CryptDecoy: a locked or empty stored hash costs what a real one does", async () => {
  const hash = await hashOf(PASSWORD, "$6$rounds=50000$saltsaltsalt$");
  const decoy = new CryptDecoy(() => hash);
  for (const stored of ["*", "", `!${hash}`]) {
    const [real, locked] = await medianPair(
      () => decoy.verify(bytes("wrong"), hash),
      () => decoy.verify(bytes("wrong"), stored),
    );
    similar(real, locked, `real hash vs ${JSON.stringify(stored.slice(0, 8))}`);
  }
});

Deno.test("CryptDecoy.reject() follows the scheme and cost of the store's hashes", async () => {
  const cheap = await hashOf(PASSWORD, "$6$rounds=1000$saltsaltsalt$");
  const dear = await hashOf(PASSWORD, "$6$rounds=50000$saltsaltsalt$");
  const cheapDecoy = new CryptDecoy(() => cheap);
  const dearDecoy = new CryptDecoy(() => dear);
  const [fast, slow] = await medianPair(
    () => cheapDecoy.reject(bytes("wrong")),
    () => dearDecoy.reject(bytes("wrong")),
  );
  assert(slow > 5 * fast, `cost not followed: ${fast} vs ${slow} ms`);
  // A real hash met by a check wins over what the sample said.
  const learning = new CryptDecoy(() => cheap);
  await learning.verify(bytes("wrong"), dear);
  similar(
    await median(() => learning.reject(bytes("wrong"))),
    await median(() => dearDecoy.reject(bytes("wrong"))),
    "after meeting the dear hash",
  );
});

Deno.test("CryptDecoy: a store with no hash (sample finds none) costs nothing; no sampler means the library's default scheme", async () => {
  const dear = await hashOf(PASSWORD, "$6$rounds=50000$saltsaltsalt$");
  const none = new CryptDecoy(() => undefined);
  const [nothing, work] = await medianPair(
    () => none.reject(bytes("wrong")),
    () => new CryptDecoy(() => dear).reject(bytes("wrong")),
  );
  assert(work > 5 * nothing, `${nothing} vs ${work} ms`);
  // libxcrypt's default (yescrypt on Debian) is real work too.
  const [still, library] = await medianPair(
    () => none.reject(bytes("wrong")),
    () => new CryptDecoy().reject(bytes("wrong")),
  );
  assert(library > 5 * still, `${still} vs ${library} ms`);
});
