import { crypt, verifyCrypt } from "../../sys/crypt.ts";

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function assertEquals<T>(actual: T, expected: T): void {
  assert(
    actual === expected,
    `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

const bytes = (text: string) => new TextEncoder().encode(text);
const PASSWORD = bytes("correct horse");

// Made once with `mkpasswd -m METHOD [-S salt] 'correct horse'` (Debian 12
// whois 5.5.17), so these tests need no tool at run time.
const MKPASSWD: Record<string, string> = {
  "DES": "abhfCpXqd4GrI",
  "MD5 $1$": "$1$saltsalt$NuzA7WTAelpl95xgBGWN60",
  "SHA-256 $5$": "$5$saltsaltsalt$7axwV9kT3PvvGXgJl1FcfUCHLdLFhWk/dIFhzsbucLB",
  "SHA-512 $6$":
    "$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1",
  "bcrypt $2b$": "$2b$05$XXJ0M/7t8hd4cMheMlHM4eoMuwmB3IYaQh7.hmSvx9I1vYIMJnYGi",
  "yescrypt $y$":
    "$y$j9T$wHYe35yrHT3D4Y0Gd9JRQ0$bn01iWFEvWyxmsngk8dugrXy9K9AFh.jXILlJ4EMnv0",
  "scrypt $7$":
    "$7$CU..../....op2yCHbLSd23ye4P4wmrF/$Y2juQrzRyXIEXuk0zcKWyWDKrwulydNsmmJ.Rw79bs0",
};

for (const [scheme, hash] of Object.entries(MKPASSWD)) {
  Deno.test(`crypt() reproduces a ${scheme} hash made by mkpasswd`, async () => {
    assertEquals(await crypt(PASSWORD, hash), hash);
  });

  Deno.test(`verifyCrypt() accepts the right password and rejects a wrong one for ${scheme}`, async () => {
    assert(await verifyCrypt(PASSWORD, hash), "right password rejected");
    assert(
      !(await verifyCrypt(bytes("Correct horse"), hash)),
      "wrong password accepted",
    );
  });
}

async function run(cmd: string, args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { code, stdout } = await child.output();
  assertEquals(code, 0);
  return new TextDecoder().decode(stdout).trim();
}

// Whether a program can be started at all (its exit status does not matter).
function hasCommand(name: string): boolean {
  try {
    new Deno.Command(name, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "crypt() verifies a yescrypt hash made by mkpasswd at run time",
  ignore: !hasCommand("mkpasswd"),
  fn: async () => {
    const hash = await run(
      "mkpasswd",
      ["-m", "yescrypt", "--stdin"],
      bytes("s3cret!"),
    );
    assert(hash.startsWith("$y$"), hash);
    assert(await verifyCrypt(bytes("s3cret!"), hash), "yescrypt rejected");
    assert(!(await verifyCrypt(bytes("s3cret"), hash)), "prefix accepted");
  },
});

Deno.test({
  name:
    "crypt() gives the same MD5, SHA-256 and SHA-512 hashes as openssl passwd",
  ignore: !hasCommand("openssl"),
  fn: async () => {
    for (const flag of ["-1", "-5", "-6"]) {
      const hash = await run("openssl", [
        "passwd",
        flag,
        "-salt",
        "abcdefgh",
        "correct horse",
      ]);
      const prefix = hash.slice(0, hash.lastIndexOf("$") + 1);
      assertEquals(await crypt(PASSWORD, prefix), hash);
    }
  },
});

Deno.test("crypt() hashes raw non-UTF-8 passphrase bytes as mkpasswd --stdin does", async () => {
  // printf 'p\xe4ss\xff' | mkpasswd -s -m sha512crypt -S rawbytes1
  const hash =
    "$6$rawbytes1$Y6KT2BlPEqz8ETRxg6B7nEkGPBX6sKGQuhwJ/PRgzAligi2qkz8QTiVji2vH2R6yzxUTAJQY84x9lepJitO160";
  const phrase = new Uint8Array([0x70, 0xe4, 0x73, 0x73, 0xff]);
  assert(await verifyCrypt(phrase, hash), "raw bytes rejected");
});

Deno.test("crypt() with DES uses only the first 8 bytes, as crypt(3) always has", async () => {
  assert(
    await verifyCrypt(bytes("correct hat"), MKPASSWD["DES"]),
    "DES truncation",
  );
  assert(
    !(await verifyCrypt(bytes("correct hat"), MKPASSWD["SHA-512 $6$"])),
    "SHA-512",
  );
});

Deno.test("crypt() refuses a passphrase containing NUL instead of hashing its prefix", async () => {
  const hash = MKPASSWD["SHA-512 $6$"];
  const withNul = bytes("correct horse\0anything");
  assertEquals(await crypt(withNul, hash), undefined);
  assert(!(await verifyCrypt(withNul, hash)), "NUL-truncated phrase accepted");
});

Deno.test("crypt() returns undefined for settings libxcrypt rejects", async () => {
  for (
    const setting of [
      "",
      "*",
      "!",
      "*0",
      "$9$xx$",
      "!" + MKPASSWD["yescrypt $y$"],
      "a\0b",
    ]
  ) {
    assertEquals(await crypt(PASSWORD, setting), undefined);
  }
});

Deno.test("verifyCrypt() is false for an empty, locked or disabled stored hash", async () => {
  for (
    const stored of ["", "*", "!", "!!", "x", "!" + MKPASSWD["SHA-512 $6$"]]
  ) {
    assert(!(await verifyCrypt(PASSWORD, stored)), `accepted ${stored}`);
    assert(
      !(await verifyCrypt(new Uint8Array(), stored)),
      `empty accepted ${stored}`,
    );
  }
});

Deno.test("crypt() calls running concurrently each get their own correct result", async () => {
  const phrases = Array.from({ length: 8 }, (_, i) => `password-${i}`);
  const hashes = await Promise.all(
    phrases.map((p) => crypt(bytes(p), "$y$j9T$saltsaltsaltsaltsalt$")),
  );
  assertEquals(new Set(hashes).size, phrases.length);
  const checks = await Promise.all(
    phrases.flatMap((p, i) => [
      verifyCrypt(bytes(p), hashes[i]!),
      verifyCrypt(bytes(p), hashes[(i + 1) % phrases.length]!),
    ]),
  );
  assertEquals(checks.join(), phrases.map(() => "true,false").join());
});

Deno.test("crypt() hashes off the event loop: a timer fires while bcrypt runs", async () => {
  // bcrypt cost 13 takes a few hundred milliseconds.
  let hashed = false;
  const hashing = crypt(PASSWORD, "$2b$13$abcdefghijklmnopqrstuu").then((h) => {
    hashed = true;
    return h;
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert(!hashed, "the timer waited for the hash");
  assert((await hashing)?.startsWith("$2b$13$") === true, "bcrypt failed");
});
