/**
 * checkPassword(): plain, crypt and the challenge-response credentials.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { checkPassword } from "../../../modules/passwords/check.ts";
import { CvmError, ErrorCode } from "../../../protocol/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const challenge = enc("<1896.697170952@mail.example>");
const cramHex = createHmac("md5", "tanstaaf").update(challenge).digest("hex");

Deno.test("checkPassword() compares plain text and crypt(3) hashes", async () => {
  assertEquals(
    await checkPassword("plain", { password: enc("pw") }, "pw"),
    true,
  );
  assertEquals(
    await checkPassword("plain", { password: enc("pw") }, "px"),
    false,
  );
  const hash =
    "$6$saltsalt$jZBOucnQMcKhGbQ8vZvAkkJMkUei09muFmegadYhO80TBLAfV9YLmUcd87HmbJAN2V/Ut8IC1ByOvBKGGNab0.";
  assertEquals(
    await checkPassword("crypt", { password: enc("crypted") }, hash),
    true,
  );
  assertEquals(
    await checkPassword("crypt", { password: enc("crypted") }, ""),
    false,
  );
});

Deno.test("checkPassword() takes a CRAM-MD5 digest as hex text or as its 16 raw bytes", async () => {
  const digest = new Uint8Array(
    cramHex.match(/../g)!.map((h) => parseInt(h, 16)),
  );
  for (
    const response of [
      enc(cramHex),
      enc(cramHex.toUpperCase()),
      digest,
    ]
  ) {
    assertEquals(
      await checkPassword("plain", {
        challenge,
        response,
        responseType: "CRAM-MD5",
      }, "tanstaaf"),
      true,
    );
  }
  assertEquals(
    await checkPassword("plain", {
      challenge,
      response: digest,
      responseType: "CRAM-MD5",
    }, "wrong"),
    false,
  );
});

Deno.test("checkPassword() checks an APOP digest and refuses what it cannot check", async () => {
  const apop = createHash("md5").update(challenge).update("tanstaaf").digest(
    "hex",
  );
  assertEquals(
    await checkPassword("plain", {
      challenge,
      response: enc(apop),
      responseType: "APOP",
    }, "tanstaaf"),
    true,
  );
  for (
    const request of [{}, {
      challenge,
      response: enc(apop),
      responseType: "NTLM",
    }]
  ) {
    await assert.rejects(
      () => checkPassword("plain", request, "tanstaaf"),
      (e) => e instanceof CvmError && e.code === ErrorCode.NOCRED,
    );
  }
  // Challenge-response needs the plain text: a crypt hash cannot answer it.
  await assert.rejects(
    () =>
      checkPassword("crypt", {
        challenge,
        response: enc(apop),
        responseType: "APOP",
      }, "$1$x$y"),
    (e) => e instanceof CvmError && e.code === ErrorCode.NOCRED,
  );
});

Deno.test("checkPassword() never matches an empty stored password, challenge-response included", async () => {
  for (const scheme of ["plain", "crypt"] as const) {
    assertEquals(
      await checkPassword(scheme, { password: enc("x") }, ""),
      false,
    );
  }
  // The HMAC and MD5 of an empty password are anyone's to compute.
  const cram = createHmac("md5", "").update(challenge).digest("hex");
  const apop = createHash("md5").update(challenge).digest("hex");
  assertEquals(
    await checkPassword("plain", {
      challenge,
      response: enc(cram),
      responseType: "CRAM-MD5",
    }, ""),
    false,
  );
  assertEquals(
    await checkPassword("plain", {
      challenge,
      response: enc(apop),
      responseType: "APOP",
    }, ""),
    false,
  );
  // With nothing to check, NOCRED comes first, as in the reference.
  await assert.rejects(
    () => checkPassword("plain", {}, ""),
    (e) => e instanceof CvmError && e.code === ErrorCode.NOCRED,
  );
});
