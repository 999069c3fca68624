/** Upgrade on login: when to write, what to write, and how a failure is said. */
import assert from "node:assert/strict";
import {
  hashForStore,
  Rehasher,
  rehasherFromEnv,
  storeScheme,
  verifyPassword,
} from "../../../modules/passwords/mod.ts";
import { verifyCrypt } from "../../../sys/mod.ts";

const pw = new TextEncoder().encode("s3cret:pw");

Deno.test("storeScheme() names the scheme as a prefix writes it and refuses what the store cannot hold", () => {
  assert.equal(storeScheme("-s", "sha512-crypt", "crypt"), "SHA512-CRYPT");
  assert.equal(storeScheme("-s", "ssha256.hex", "scheme"), "SSHA256.HEX");
  assert.equal(storeScheme("-s", "clear", "plain"), "CLEAR");
  assert.throws(
    () => storeScheme("-s", "NOPE", "scheme"),
    /-s: unknown scheme/,
  );
  assert.throws(() => storeScheme("-s", "SSHA512", "crypt"), /crypt\(3\)/);
  assert.throws(() => storeScheme("-s", "SHA512-CRYPT", "plain"), /plain/);
});

Deno.test("hashForStore() writes {SCHEME}hash for a scheme store, the bare hash for a crypt store, the text for a plain one", async () => {
  const scheme = await hashForStore("scheme", "SHA512-CRYPT", pw);
  assert.match(scheme, /^\{SHA512-CRYPT\}\$6\$/);
  assert.ok(await verifyPassword(scheme, pw));
  const crypt = await hashForStore("crypt", "MD5-CRYPT", pw);
  assert.match(crypt, /^\$1\$/);
  assert.ok(await verifyCrypt(pw, crypt));
  assert.equal(await hashForStore("plain", "PLAIN", pw), "s3cret:pw");
});

Deno.test("Rehasher.needs() is true for another scheme only: a crypt hash counts as the kind its text shows", () => {
  const scheme = new Rehasher("t", "scheme", "SHA512-CRYPT");
  assert.ok(scheme.needs("{PLAIN}pw"));
  assert.ok(scheme.needs("{SHA256-CRYPT}$5$salt$hash"));
  assert.ok(scheme.needs("$1$salt$hash"));
  assert.ok(!scheme.needs("{SHA512-CRYPT}$6$salt$hash"));
  assert.ok(!scheme.needs("{CRYPT}$6$salt$hash"));
  assert.ok(!scheme.needs("$6$salt$hash"), "bare values default to CRYPT");
  const plainDefault = new Rehasher("t", "scheme", "SHA512-CRYPT", "PLAIN");
  assert.ok(plainDefault.needs("$6$salt$hash"), "read as PLAIN text");
  const crypt = new Rehasher("t", "crypt", "SHA512-CRYPT");
  assert.ok(crypt.needs("$1$salt$hash"));
  assert.ok(!crypt.needs("$6$rounds=9999$salt$hash"), "costs are not compared");
});

Deno.test("Rehasher.afterLogin() writes only when needed, says a failed write once, never with the password or the hash", async () => {
  const lines: string[] = [];
  const rehasher = new Rehasher(
    "cvm-x",
    "scheme",
    "SSHA512",
    "CRYPT",
    (line) => lines.push(line),
  );
  const written: string[] = [];
  await rehasher.afterLogin("{SSHA512}x", pw, (v) => {
    written.push(v);
    return Promise.resolve();
  });
  assert.equal(written.length, 0);
  await rehasher.afterLogin("{PLAIN}s3cret:pw", pw, (v) => {
    written.push(v);
    return Promise.resolve();
  });
  assert.equal(written.length, 1);
  assert.ok(await verifyPassword(written[0], pw));
  const failing = (value: string) =>
    Promise.reject(new Error(`disk full writing ${value}`));
  await rehasher.afterLogin("{PLAIN}s3cret:pw", pw, failing);
  await rehasher.afterLogin("{PLAIN}s3cret:pw", pw, failing);
  assert.equal(lines.length, 1, "the same failure is said once");
  assert.match(lines[0], /^cvm-x: CVM_REHASH: .*disk full writing \*\*\*$/);
  assert.ok(!lines[0].includes("s3cret"));
  // After a write succeeds, a new failure is said again.
  await rehasher.afterLogin("{PLAIN}s3cret:pw", pw, () => Promise.resolve());
  await rehasher.afterLogin("{PLAIN}s3cret:pw", pw, failing);
  assert.equal(lines.length, 2);
});

Deno.test("rehasherFromEnv() is off when unset, and a configuration error for a plain store or an unknown scheme", () => {
  assert.equal(rehasherFromEnv("p", {}, "scheme", "X_PWCMP"), undefined);
  assert.equal(
    rehasherFromEnv("p", { CVM_REHASH: "" }, "crypt", "X_PWCMP"),
    undefined,
  );
  assert.throws(
    () => rehasherFromEnv("p", { CVM_REHASH: "SSHA" }, "plain", "X_PWCMP"),
    (e: Error & { code?: number }) =>
      e.code === 6 && /\$X_PWCMP set to crypt or scheme/.test(e.message),
  );
  assert.throws(
    () => rehasherFromEnv("p", { CVM_REHASH: "NOPE" }, "scheme", "X_PWCMP"),
    /\$CVM_REHASH: unknown scheme/,
  );
  assert.equal(
    rehasherFromEnv("p", { CVM_REHASH: "argon2id" }, "scheme", "X_PWCMP")
      ?.scheme,
    "ARGON2ID",
  );
});
