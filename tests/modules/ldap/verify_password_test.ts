/**
 * verifyUserPassword(): userPassword values as OpenLDAP's own tools make
 * them (slappasswd, mkpasswd), locked values, unknown schemes.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  isLockedPassword,
  verifyUserPassword,
} from "../../../modules/ldap/mod.ts";
import { stopIdlePasswordWorkers } from "../../../modules/passwords/mod.ts";
import { have, run } from "../../_helpers.ts";
import { mkpasswdYescrypt, slapdAvailable, slappasswd } from "./_slapd.ts";

const available = slapdAvailable();
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test({
  name:
    "verifyUserPassword() accepts what slappasswd and mkpasswd make, and nothing else",
  ignore: !available,
  fn: async () => {
    const password = "pässword 1";
    const stored = [
      ...await Promise.all(
        [
          "{SSHA}",
          "{SHA}",
          "{MD5}",
          "{SMD5}",
          "{SHA256}",
          "{SSHA256}",
          "{SHA384}",
          "{SSHA384}",
          "{SHA512}",
          "{SSHA512}",
          "{CRYPT}",
          "{CLEARTEXT}",
        ].map((s) => slappasswd(s, password)),
      ),
      await slappasswd("{CRYPT}", password, "-c", "$6$%.16s"),
      await slappasswd("{CRYPT}", password, "-c", "$1$%.8s"),
      "{CRYPT}" + await mkpasswdYescrypt(password),
      password,
    ];
    for (const value of stored) {
      assertEquals(await verifyUserPassword(value, enc(password)), true, value);
      assertEquals(
        await verifyUserPassword(value, enc(password + "x")),
        false,
        value,
      );
      assertEquals(await verifyUserPassword(value, enc("")), false, value);
      // Scheme names are case-insensitive, as in OpenLDAP.
      const lower = value.replace(/^\{[A-Z0-9]+\}/, (s) => s.toLowerCase());
      assertEquals(await verifyUserPassword(lower, enc(password)), true, lower);
    }
  },
});

Deno.test("verifyUserPassword() never accepts a locked value, whatever is sent", async () => {
  const locked = [
    "{CRYPT}!$1$abcdefgh$3L4Ylt2Yr7gW0Qx0wX/2H.",
    "{CRYPT}*",
    "{CRYPT}!",
    "{crypt}*LK*",
    "*",
    "!",
    "!!",
    "",
    "{CLEARTEXT}!",
  ];
  for (const value of locked) {
    assertEquals(isLockedPassword(value), true, value);
    for (const guess of ["*", "!", "!!", "*LK*", "", "x"]) {
      assertEquals(await verifyUserPassword(value, enc(guess)), false, value);
    }
  }
  assertEquals(
    isLockedPassword("{SSHA}6RFMqVVWQ4OPrR61YvCY3Ut9LkMlBIj6"),
    false,
  );
});

Deno.test("verifyUserPassword() refuses unknown schemes and malformed digests instead of comparing them as text", async () => {
  const cases: [string, string][] = [
    ["{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "x"],
    ["{UNKNOWN}secret", "secret"],
    ["{UNKNOWN}secret", "{UNKNOWN}secret"],
    ["{SSHA}not base64!", "x"],
    // A {SHA} digest one byte short, and a salted one with no salt.
    ["{SHA}5en6G6MezRroT3XKqkdPOmY/Bf==", "secret"],
    ["{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"],
  ];
  for (const [stored, guess] of cases) {
    assertEquals(await verifyUserPassword(stored, enc(guess)), false, stored);
  }
  // The unsalted digest of "secret" itself is accepted.
  assertEquals(
    await verifyUserPassword(
      "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
      enc("secret"),
    ),
    true,
  );
});

Deno.test("verifyUserPassword() compares plain text byte for byte, non-UTF-8 bytes included", async () => {
  const stored = new Uint8Array([0xe9, 0x74, 0xe9]);
  assertEquals(await verifyUserPassword(stored, stored), true);
  assertEquals(
    await verifyUserPassword(stored, new Uint8Array([0xe8, 0x74, 0xe9])),
    false,
  );
  assertEquals(await verifyUserPassword("abc", enc("abcd")), false);
});

Deno.test({
  name:
    "verifyUserPassword() checks every scheme of the registry: Dovecot's values as doveadm pw makes them",
  ignore: !have("/usr/bin/doveadm"),
  fn: async () => {
    const password = "pässword 2";
    try {
      for (
        const scheme of [
          "ARGON2ID",
          "BLF-CRYPT",
          "SHA512-CRYPT",
          "PBKDF2",
          "SCRAM-SHA-256",
          "CRAM-MD5",
          "SSHA512.HEX",
        ]
      ) {
        const made = await run("/usr/bin/doveadm", [
          "pw",
          "-s",
          scheme,
          "-p",
          password,
        ]);
        assertEquals(made.code, 0, made.stderr);
        const value = made.stdout.trim();
        assertEquals(
          await verifyUserPassword(value, enc(password)),
          true,
          value,
        );
        assertEquals(
          await verifyUserPassword(value, enc(password + "x")),
          false,
          value,
        );
      }
    } finally {
      await stopIdlePasswordWorkers();
    }
  },
});
