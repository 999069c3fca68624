/**
 * The scheme registry: known test vectors, Dovecot's encodings and
 * suffixes, the unknown-scheme error, the rehash question, and the
 * challenge-response answers of stored values.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import {
  checkStored,
  expectedResponse,
  findScheme,
  hashPassword,
  isStoredInScheme,
  listSchemes,
  storedScheme,
  UnknownSchemeError,
  verifyPassword,
} from "../../../modules/passwords/mod.ts";
import { stopIdleArgon2Workers } from "../../../modules/passwords/argon2.ts";
import { pbkdf2 } from "../../../modules/passwords/pbkdf2.ts";
import { md5 } from "../../../modules/passwords/md5.ts";
import { toHex } from "../../../modules/passwords/encoding.ts";
import {
  cramMd5Context,
  cramMd5Response,
} from "../../../modules/passwords/cram_md5.ts";
import { CvmError, ErrorCode } from "../../../protocol/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("md5() matches RFC 1321's test suite", () => {
  const suite: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ];
  for (const [input, digest] of suite) {
    assertEquals(toHex(md5(enc(input))), digest);
  }
});

Deno.test("pbkdf2() matches RFC 6070's PBKDF2-HMAC-SHA1 vectors", async () => {
  const vectors: [string, string, number, number, string][] = [
    ["password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"],
    ["password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"],
    ["password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"],
    [
      "passwordPASSWORDpassword",
      "saltSALTsaltSALTsaltSALTsaltSALTsalt",
      4096,
      25,
      "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
    ],
    ["pass\0word", "sa\0lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"],
  ];
  for (const [password, salt, rounds, length, key] of vectors) {
    assertEquals(
      toHex(await pbkdf2("SHA-1", enc(password), enc(salt), rounds, length)),
      key,
    );
  }
});

Deno.test("{PBKDF2} reads Dovecot's $1$salt$rounds$hex with the salt's text as salt (RFC 6070 vector)", async () => {
  const stored =
    "{PBKDF2}$1$salt$4096$4b007901b765489abead49d926f721d065a429c1";
  assertEquals(await verifyPassword(stored, enc("password")), true);
  assertEquals(await verifyPassword(stored, enc("passwore")), false);
  // Upper-case hex is hex too; a short key or a missing field is no hash.
  assertEquals(
    await verifyPassword(
      stored.toUpperCase().replace("SALT", "salt"),
      enc("password"),
    ),
    true,
  );
  assertEquals(
    await checkStored("{PBKDF2}$1$salt$4096$4b00", enc("password")),
    "unusable",
  );
  assertEquals(
    await checkStored(
      "{PBKDF2}$1$salt$4b007901b765489abead49d926f721d065a429c1",
      enc("password"),
    ),
    "unusable",
  );
});

Deno.test("{ARGON2I}/{ARGON2ID} verify the reference implementation's vectors (phc-winner-argon2 test.c, libsodium)", async () => {
  try {
    const vectors: [string, string][] = [
      [
        "{ARGON2I}$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
        "password",
      ],
      [
        "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "password",
      ],
      [
        "{ARGON2ID}$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "password",
      ],
    ];
    for (const [stored, password] of vectors) {
      assertEquals(await verifyPassword(stored, enc(password)), true, stored);
      assertEquals(await verifyPassword(stored, enc("Password")), false);
    }
    // As libsodium: the string's own variant counts, whatever the braces say.
    assertEquals(
      await verifyPassword(
        vectors[2][0].replace("{ARGON2ID}", "{ARGON2I}"),
        enc("password"),
      ),
      true,
    );
    // Version 16, a salt under 8 bytes, a bad parameter: no hash.
    for (
      const bad of [
        "{ARGON2I}$argon2i$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
        "{ARGON2ID}$argon2id$v=19$m=256,t=2,p=1$c2FsdA$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "{ARGON2ID}$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      ]
    ) {
      assertEquals(await checkStored(bad, enc("password")), "unusable", bad);
    }
  } finally {
    stopIdleArgon2Workers();
  }
});

Deno.test("{CRAM-MD5} is the HMAC-MD5 context Dovecot stores, and answers RFC 2195's example", () => {
  // doveadm pw -s CRAM-MD5 -p 'pässword'
  assertEquals(
    toHex(cramMd5Context(enc("pässword"))),
    "7dead29c194d4ac3cf5f337b23fa3b9b32c9f4b1d7d7b1fa2539d66ce368e997",
  );
  assertEquals(
    cramMd5Response(
      cramMd5Context(enc("tanstaaftanstaaf")),
      enc("<1896.697170952@postoffice.reston.mci.net>"),
    ),
    "b913a602c7eda7a495b4e6e7334d3890",
  );
});

Deno.test("verifyPassword() guesses hex or base64 for a digest of known length, as Dovecot", async () => {
  const sha1 = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"; // SHA-1("password")
  const b64 = "W6ph5Mm5Pz8GgiULbPgzG37mj9g=";
  for (
    const stored of [
      `{SHA}${sha1}`,
      `{SHA}${b64}`,
      `{SHA1}${sha1.toUpperCase()}`,
    ]
  ) {
    assertEquals(await verifyPassword(stored, enc("password")), true, stored);
  }
  // A suffix fixes the encoding: no guess.
  assertEquals(await verifyPassword(`{SHA.HEX}${sha1}`, enc("password")), true);
  assertEquals(
    await checkStored(`{SHA.HEX}${b64}`, enc("password")),
    "unusable",
  );
  assertEquals(
    await checkStored(`{SHA.B64}${sha1}`, enc("password")),
    "unusable",
  );
  // Base64 without its padding is not read, as in Dovecot.
  assertEquals(
    await checkStored(`{SHA}${b64.replace("=", "")}`, enc("password")),
    "unusable",
  );
  // {PLAIN-MD5} is hex by default, {LDAP-MD5} base64; both are MD5.
  assertEquals(
    await verifyPassword(
      "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99",
      enc("password"),
    ),
    true,
  );
  assertEquals(
    await verifyPassword("{LDAP-MD5}X03MO1qnZdYdgyfeuILPmQ==", enc("password")),
    true,
  );
});

Deno.test("{MD5} is MD5-CRYPT, or else a bare MD5 digest in hex or base64 (OpenLDAP's {MD5})", async () => {
  const crypted = "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"; // MD5-crypt of "password"
  assertEquals(await verifyPassword(`{MD5}${crypted}`, enc("password")), true);
  assertEquals(
    await verifyPassword(
      "{MD5}5f4dcc3b5aa765d61d8327deb882cf99",
      enc("password"),
    ),
    true,
  );
  assertEquals(
    await verifyPassword("{MD5}X03MO1qnZdYdgyfeuILPmQ==", enc("password")),
    true,
  );
  assertEquals(
    await verifyPassword("{MD5}X03MO1qnZdYdgyfeuILPmQ==", enc("passwore")),
    false,
  );
  // Without braces, $1$ is MD5-CRYPT whatever the default scheme.
  assertEquals(
    await verifyPassword(crypted, enc("password"), { defaultScheme: "PLAIN" }),
    true,
  );
});

Deno.test("verifyPassword() reads a value without a prefix in the default scheme (CRYPT unless told)", async () => {
  const crypted = await hashPassword("SHA512-CRYPT", enc("pw"));
  const bare = crypted.slice("{SHA512-CRYPT}".length);
  assertEquals(await verifyPassword(bare, enc("pw")), true);
  assertEquals(await verifyPassword("pw", enc("pw")), false);
  assertEquals(
    await verifyPassword("pw", enc("pw"), { defaultScheme: "PLAIN" }),
    true,
  );
  assertEquals(
    await verifyPassword(
      "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
      enc("password"),
      { defaultScheme: "sha1" },
    ),
    true,
  );
});

Deno.test("an unknown {NAME} is CONFIG, and its name is left out of the message unless it is one of Dovecot's", async () => {
  for (const stored of ["{NOPE}x", "{SHA.B32}x", "{Summer2024}!"]) {
    await assert.rejects(
      () => verifyPassword(stored, enc("x")),
      (e: unknown) =>
        e instanceof UnknownSchemeError && e instanceof CvmError &&
        e.code === ErrorCode.CONFIG && !e.message.includes("Summer") &&
        !e.message.includes("NOPE"),
    );
  }
  await assert.rejects(
    () => verifyPassword("{otp}md5 99 seed 0123456789abcdef", enc("x")),
    /Dovecot's \{OTP\} scheme/,
  );
  await assert.rejects(
    () => hashPassword("NOPE", enc("x")),
    UnknownSchemeError,
  );
  await assert.rejects(
    () => hashPassword("SHA.B32", enc("x")),
    UnknownSchemeError,
  );
});

Deno.test("an unusable stored value never matches: empty, locked, malformed", async () => {
  for (
    const stored of [
      "{PLAIN}",
      "{SHA512-CRYPT}!$6$salt$hash",
      "{SHA512-CRYPT}*",
      "{CRYPT}",
      "{BLF-CRYPT}$6$saltsalt$x",
      "{SSHA}YWJj",
      "{SCRAM-SHA-1}4096,c2FsdA==,YWJj,YWJj",
      "{CRAM-MD5}abcd",
    ]
  ) {
    assertEquals(await verifyPassword(stored, enc("")), false, stored);
    assertEquals(await verifyPassword(stored, enc("x")), false, stored);
  }
  assertEquals(
    await checkStored("{SHA512-CRYPT}!$6$s$h", enc("x")),
    "unusable",
  );
});

Deno.test("hashPassword() writes {LABEL} in upper case with the suffix's encoding, and every scheme checks its own hashes", async () => {
  try {
    const pw = enc("pässword");
    const params = { rounds: 0 };
    for (const name of listSchemes()) {
      const cheap = /ARGON2/.test(name)
        ? { rounds: 1, memoryKiB: 256 }
        : params;
      const stored = await hashPassword(name.toLowerCase(), pw, cheap);
      assert(stored.startsWith(`{${name}}`), stored);
      assertEquals(await verifyPassword(stored, pw), true, stored);
      assertEquals(
        await verifyPassword(stored, enc("xpässword")),
        false,
        stored,
      );
    }
    const hex = await hashPassword("sha256.hex", enc("pw"));
    assertEquals(
      hex,
      "{SHA256.HEX}30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4",
    );
    assert((await hashPassword("SSHA512.b64", pw)).startsWith("{SSHA512.B64}"));
    assertEquals(await hashPassword("PLAIN.HEX", enc("pw")), "{PLAIN.HEX}7077");
  } finally {
    stopIdleArgon2Workers();
  }
});

Deno.test("hashPassword() refuses a password with a NUL byte", async () => {
  await assert.rejects(() => hashPassword("SHA256", enc("a\0b")), RangeError);
});

Deno.test("hashPassword() takes cost parameters: rounds for the crypt family and PBKDF2, memory for Argon2", async () => {
  try {
    assert(
      (await hashPassword("SHA512-CRYPT", enc("pw"), { rounds: 10000 }))
        .startsWith("{SHA512-CRYPT}$6$rounds=10000$"),
    );
    assert(
      (await hashPassword("BLF-CRYPT", enc("pw"), { rounds: 4 })).startsWith(
        "{BLF-CRYPT}$2y$04$",
      ),
    );
    assert(/^\{PBKDF2\}\$1\$[./0-9A-Za-z]{16}\$1234\$[0-9a-f]{40}$/.test(
      await hashPassword("PBKDF2", enc("pw"), { rounds: 1234 }),
    ));
    assert(/^\{SCRAM-SHA-256\}5000,/.test(
      await hashPassword("SCRAM-SHA-256", enc("pw"), { rounds: 5000 }),
    ));
    assert(
      (await hashPassword("ARGON2ID", enc("pw"), {
        rounds: 2,
        memoryKiB: 1024,
        parallelism: 2,
      })).startsWith("{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=2$"),
    );
    // The defaults: Dovecot's for Argon2, ours for PBKDF2 and bcrypt.
    assert(
      (await hashPassword("ARGON2ID", enc("pw"))).startsWith(
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$",
      ),
    );
    assert(/\$100000\$/.test(await hashPassword("PBKDF2", enc("pw"))));
    assert(
      (await hashPassword("BLF-CRYPT", enc("pw"))).startsWith(
        "{BLF-CRYPT}$2y$10$",
      ),
    );
    assert(
      (await hashPassword("SHA256-CRYPT", enc("pw"))).match(
        /^\{SHA256-CRYPT\}\$5\$[^$]{16}\$/,
      ),
    );
  } finally {
    stopIdleArgon2Workers();
  }
});

Deno.test("findScheme() and listSchemes() know every scheme of the issue, any case, with suffixes", () => {
  for (
    const name of [
      "PLAIN",
      "CLEAR",
      "CLEARTEXT",
      "CRYPT",
      "DES-CRYPT",
      "MD5-CRYPT",
      "MD5",
      "SHA256-CRYPT",
      "SHA512-CRYPT",
      "BLF-CRYPT",
      "ARGON2I",
      "ARGON2ID",
      "PBKDF2",
      "SHA",
      "SHA1",
      "SHA256",
      "SHA512",
      "SSHA",
      "SSHA256",
      "SSHA512",
      "SMD5",
      "PLAIN-MD5",
      "LDAP-MD5",
      "CRAM-MD5",
      "SCRAM-SHA-1",
      "SCRAM-SHA-256",
    ]
  ) {
    assert(listSchemes().includes(name), name);
    assertEquals(findScheme(name.toLowerCase())?.info.name, name);
  }
  assertEquals(findScheme("sha256.HEX")?.encoding, "hex");
  assertEquals(findScheme("ssha.base64")?.encoding, "base64");
  assertEquals(findScheme("ssha.b64")?.label, "SSHA.B64");
  assertEquals(findScheme("sha.b32"), undefined);
  assertEquals(storedScheme("{cram-md5}00").info.mechanisms, ["cram-md5"]);
});

Deno.test("isStoredInScheme() says whether an upgrade on login would change the scheme", () => {
  assertEquals(isStoredInScheme("{SHA1}x", "SHA"), true);
  assertEquals(isStoredInScheme("{SHA}x", "SHA256"), false);
  assertEquals(isStoredInScheme("{MD5}$1$salt$hash", "MD5-CRYPT"), true);
  assertEquals(isStoredInScheme("$6$salt$hash", "SHA512-CRYPT"), true);
  assertEquals(isStoredInScheme("{CRYPT}$2y$05$abc", "BLF-CRYPT"), true);
  assertEquals(isStoredInScheme("{CRYPT}$6$salt$hash", "CRYPT"), false);
  assertEquals(isStoredInScheme("{CRYPT}$y$j9T$salt$hash", "CRYPT"), true);
  assertEquals(
    isStoredInScheme(
      "{ARGON2I}$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
      "ARGON2ID",
    ),
    true,
  );
  assertEquals(isStoredInScheme("{SHA256.HEX}ab", "SHA256"), true);
  assertEquals(isStoredInScheme("{SHA256}ab", "SHA256.HEX"), false);
  assertEquals(
    isStoredInScheme("pw", "PLAIN", { defaultScheme: "CLEAR" }),
    true,
  );
  assertEquals(isStoredInScheme("{NOPE}x", "PLAIN"), false);
  assertEquals(isStoredInScheme("{PLAIN}x", "NOPE"), false);
});

Deno.test("expectedResponse(): plain text answers APOP and CRAM-MD5, {CRAM-MD5} only CRAM-MD5, hashes neither", async () => {
  const challenge = enc("<1896.697170952@dbc.mtview.ca.us>");
  assertEquals(
    await expectedResponse("{PLAIN}tanstaaf", "apop", challenge),
    "c4c9334bac560ecc979e58001b3e22fb",
  );
  const cram = await hashPassword("CRAM-MD5", enc("tanstaaf"));
  const fromPlain = await expectedResponse(
    "{CLEAR}tanstaaf",
    "cram-md5",
    challenge,
  );
  assertEquals(await expectedResponse(cram, "cram-md5", challenge), fromPlain);
  assertEquals(await expectedResponse(cram, "apop", challenge), undefined);
  const ssha = await hashPassword("SSHA", enc("tanstaaf"));
  assertEquals(await expectedResponse(ssha, "cram-md5", challenge), undefined);
  assertEquals(await expectedResponse("{PLAIN}", "apop", challenge), undefined);
});
