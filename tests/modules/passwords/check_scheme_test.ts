/**
 * checkPassword() in scheme mode: {SCHEME} values and the default scheme,
 * the challenge-response mechanisms each stored value allows, an unknown
 * scheme as CONFIG, unusable values through the decoy; and the settings
 * (`…_PWCMP=scheme`, `$CVM_DEFAULT_SCHEME`).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import {
  checkPassword,
  createPasswordDecoy,
  CryptDecoy,
  hashPassword,
  parsePasswordScheme,
  type PasswordComparison,
  readPasswordComparison,
  SchemeDecoy,
} from "../../../modules/passwords/mod.ts";
import { CvmError, ErrorCode } from "../../../protocol/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const scheme: PasswordComparison = { mode: "scheme", defaultScheme: "CRYPT" };
const challenge = enc("<1896.697170952@mail.example>");
const cramHex = createHmac("md5", "tanstaaf").update(challenge).digest("hex");
const apopHex = createHash("md5").update(challenge).update("tanstaaf").digest(
  "hex",
);
const cram = (response: string | Uint8Array) => ({
  challenge,
  response: typeof response === "string" ? enc(response) : response,
  responseType: "CRAM-MD5",
});
const apop = (response: string) => ({
  challenge,
  response: enc(response),
  responseType: "APOP",
});

function isCode(code: number) {
  return (e: unknown) => e instanceof CvmError && e.code === code;
}

Deno.test("parsePasswordScheme() takes scheme; readPasswordComparison() reads $CVM_DEFAULT_SCHEME in scheme mode only", () => {
  assertEquals(parsePasswordScheme("CVM_X_PWCMP", "scheme"), "scheme");
  assert.throws(
    () => parsePasswordScheme("CVM_X_PWCMP", "Scheme"),
    /\$CVM_X_PWCMP must be "plain", "crypt" or "scheme"/,
  );
  assertEquals(readPasswordComparison("CVM_X_PWCMP", {}), {
    mode: "plain",
    defaultScheme: "CRYPT",
  });
  assertEquals(
    readPasswordComparison("CVM_X_PWCMP", {
      CVM_X_PWCMP: "crypt",
      CVM_DEFAULT_SCHEME: "NOPE",
    }).mode,
    "crypt",
  );
  assertEquals(
    readPasswordComparison("CVM_X_PWCMP", {
      CVM_X_PWCMP: "scheme",
      CVM_DEFAULT_SCHEME: "ssha512.b64",
    }),
    { mode: "scheme", defaultScheme: "SSHA512.B64" },
  );
  assertEquals(
    readPasswordComparison("CVM_X_PWCMP", { CVM_X_PWCMP: "scheme" })
      .defaultScheme,
    "CRYPT",
  );
  assert.throws(
    () =>
      readPasswordComparison("CVM_X_PWCMP", {
        CVM_X_PWCMP: "scheme",
        CVM_DEFAULT_SCHEME: "NOPE",
      }),
    (e: unknown) =>
      isCode(ErrorCode.CONFIG)(e) &&
      (e as Error).message.includes("$CVM_DEFAULT_SCHEME"),
  );
});

Deno.test("scheme mode: a {SCHEME} value by its scheme, a bare one in the default scheme", async () => {
  const password = enc("pässword");
  const ssha = await hashPassword("SSHA512", password);
  const sha512crypt = await hashPassword("SHA512-CRYPT", password);
  const bare = sha512crypt.slice("{SHA512-CRYPT}".length);
  for (const stored of [ssha, sha512crypt, bare, "{PLAIN}pässword"]) {
    assertEquals(await checkPassword(scheme, { password }, stored), true);
    assertEquals(
      await checkPassword(scheme, { password: enc("wrong") }, stored),
      false,
    );
  }
  // Bare "pässword" is read as crypt(3) by default, as plain text when told.
  assertEquals(await checkPassword(scheme, { password }, "pässword"), false);
  assertEquals(
    await checkPassword(
      { mode: "scheme", defaultScheme: "PLAIN" },
      { password },
      "pässword",
    ),
    true,
  );
  // The mode alone means the default CRYPT.
  assertEquals(await checkPassword("scheme", { password }, ssha), true);
});

Deno.test("scheme mode: an unknown {NAME} is CONFIG, whatever the password", async () => {
  for (const password of [enc("x"), enc("secret")]) {
    await assert.rejects(
      () => checkPassword(scheme, { password }, "{NOPE}secret"),
      isCode(ErrorCode.CONFIG),
    );
  }
});

Deno.test("scheme mode: {PLAIN} answers APOP and CRAM-MD5, {CRAM-MD5} and {HMAC-MD5} only CRAM-MD5 (hex or 16 raw bytes)", async () => {
  const cramStored = await hashPassword("CRAM-MD5", enc("tanstaaf"));
  const hmacStored = await hashPassword("HMAC-MD5.b64", enc("tanstaaf"));
  const raw = Uint8Array.from(cramHex.match(/../g)!, (h) => parseInt(h, 16));
  for (
    const stored of [
      "{PLAIN}tanstaaf",
      "{CLEAR}tanstaaf",
      cramStored,
      hmacStored,
    ]
  ) {
    assertEquals(await checkPassword(scheme, cram(cramHex), stored), true);
    assertEquals(
      await checkPassword(scheme, cram(cramHex.toUpperCase()), stored),
      true,
    );
    assertEquals(await checkPassword(scheme, cram(raw), stored), true);
    assertEquals(
      await checkPassword(scheme, cram("0".repeat(32)), stored),
      false,
    );
  }
  assertEquals(
    await checkPassword(scheme, apop(apopHex), "{PLAIN}tanstaaf"),
    true,
  );
  assertEquals(
    await checkPassword(scheme, apop(apopHex), "{PLAIN}tanstaaX"),
    false,
  );
  // A CRAM-MD5 context cannot answer APOP; a hash answers neither.
  await assert.rejects(
    () => checkPassword(scheme, apop(apopHex), cramStored),
    isCode(ErrorCode.NOCRED),
  );
  const ssha = await hashPassword("SSHA", enc("tanstaaf"));
  for (const request of [apop(apopHex), cram(cramHex)]) {
    await assert.rejects(
      () => checkPassword(scheme, request, ssha),
      isCode(ErrorCode.NOCRED),
    );
  }
  // An unknown mechanism is NOCRED; an empty value never matches.
  await assert.rejects(
    () =>
      checkPassword(
        scheme,
        { challenge, response: enc("x"), responseType: "DIGEST-MD5" },
        "{PLAIN}tanstaaf",
      ),
    isCode(ErrorCode.NOCRED),
  );
  assertEquals(await checkPassword(scheme, cram(cramHex), ""), false);
  assertEquals(await checkPassword(scheme, cram(cramHex), "{PLAIN}"), false);
  // With the plain-text default, a bare value answers both.
  assertEquals(
    await checkPassword(
      { mode: "scheme", defaultScheme: "CLEARTEXT" },
      apop(apopHex),
      "tanstaaf",
    ),
    true,
  );
});

Deno.test("scheme mode: an unusable stored value (locked, empty, malformed) costs the decoy's work and never matches", async () => {
  const rejected: (Uint8Array | undefined)[] = [];
  const observed: (string | undefined)[] = [];
  const decoy = {
    observe: (s: string | undefined) => void observed.push(s),
    reject: (p: Uint8Array | undefined) => {
      rejected.push(p);
      return Promise.resolve(false as const);
    },
  };
  const password = enc("pw");
  for (const stored of ["", "{SHA512-CRYPT}!$6$x$y", "{SSHA}", "{SHA}short"]) {
    assertEquals(
      await checkPassword(scheme, { password }, stored, decoy),
      false,
    );
  }
  assertEquals(rejected.length, 4);
  const real = await hashPassword("SHA256-CRYPT", password);
  assertEquals(await checkPassword(scheme, { password }, real, decoy), true);
  assertEquals(rejected.length, 4);
  assertEquals(observed, [real]);
});

Deno.test("createPasswordDecoy(): none for plain, crypt(3)'s for crypt, the most used scheme's for scheme", async () => {
  assertEquals(
    createPasswordDecoy({ mode: "plain", defaultScheme: "CRYPT" }),
    undefined,
  );
  assert(
    createPasswordDecoy({ mode: "crypt", defaultScheme: "CRYPT" }) instanceof
      CryptDecoy,
  );
  const decoy = createPasswordDecoy(scheme, () => []);
  assert(decoy instanceof SchemeDecoy);
  assertEquals(await decoy.reject(enc("pw")), false);
});

Deno.test("SchemeDecoy costs what a check in the store's most used scheme costs, and never accepts", async () => {
  const password = enc("pw");
  const dear = await hashPassword("SHA512-CRYPT", password, { rounds: 200000 });
  const cheap = await hashPassword("SSHA", password);
  const time = async (decoy: SchemeDecoy) => {
    await decoy.reject(enc("warm-up")); // makes the dummy value
    const start = performance.now();
    for (let i = 0; i < 3; i++) {
      assertEquals(await decoy.reject(password), false);
    }
    return performance.now() - start;
  };
  const mostlyDear = new SchemeDecoy("CRYPT", () => [cheap, dear, dear]);
  const mostlyCheap = new SchemeDecoy("CRYPT", () => [dear, cheap, cheap]);
  const dearTime = await time(mostlyDear);
  const cheapTime = await time(mostlyCheap);
  // 200,000 SHA-512 rounds against one SHA-1: orders of magnitude apart.
  assert(dearTime > 20 * cheapTime, `${dearTime} ms vs ${cheapTime} ms`);
  // A real check of the dear hash costs about what the decoy does.
  const start = performance.now();
  for (let i = 0; i < 3; i++) {
    await checkPassword(scheme, { password: enc("wrong") }, dear);
  }
  const realTime = performance.now() - start;
  assert(
    dearTime > realTime / 3 && dearTime < realTime * 3,
    `decoy ${dearTime} ms, real ${realTime} ms`,
  );
  // The sample's own password does not pass the decoy.
  assertEquals(await mostlyDear.reject(password), false);
});

Deno.test("SchemeDecoy: the first decoy (command mode's only one) costs one check, not the making of a dummy and a check", async () => {
  const password = enc("pw");
  const dear = await hashPassword("SHA512-CRYPT", password, { rounds: 300000 });
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const real: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < 5; i++) {
    let start = performance.now();
    await checkPassword(scheme, { password: enc("wrong") }, dear);
    real.push(performance.now() - start);
    const decoy = new SchemeDecoy("CRYPT", () => [dear]);
    start = performance.now();
    assertEquals(await decoy.reject(enc("wrong")), false);
    first.push(performance.now() - start);
  }
  const ratio = median(first) / median(real);
  assert(
    ratio > 0.6 && ratio < 1.5,
    `first decoy ${median(first)} ms, real ${median(real)} ms`,
  );
});
