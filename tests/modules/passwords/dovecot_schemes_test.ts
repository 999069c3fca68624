/**
 * Every scheme, both ways, against Dovecot's own `doveadm pw`: every hash
 * doveadm makes, ours verifies (the registry and `cvm pw -t`); every hash
 * `cvm pw -s` makes, `doveadm pw -t` verifies; wrong passwords fail in
 * both. The encoding suffixes and the cost flags too.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { listSchemes, verifyPassword } from "../../../modules/passwords/mod.ts";
import { stopIdleArgon2Workers } from "../../../modules/passwords/argon2.ts";
import { dist, ensureDist, have, run, type RunResult } from "../../_helpers.ts";

const DOVEADM = "/usr/bin/doveadm";
const enc = (s: string) => new TextEncoder().encode(s);
const PASSWORD = "pässword 1";
// Differs in the first byte: DES-CRYPT reads only 8 bytes.
const WRONG = "x" + PASSWORD;

/** The suffixed names tried besides the plain ones. */
const SUFFIXED = [
  "SHA256.HEX",
  "SSHA512.B64",
  "SHA.b64",
  "PLAIN.hex",
  "CRAM-MD5.b64",
  "PLAIN-MD5.B64",
  "LDAP-MD5.HEX",
  "MD5-CRYPT.HEX",
  "SCRAM-SHA-256.hex",
  "SMD5.BASE64",
];

function doveadm(args: string[]): Promise<RunResult> {
  return run(DOVEADM, ["pw", ...args]);
}

function cvmPw(args: string[], password: string): Promise<RunResult> {
  return run(`${dist}/cvm`, ["pw", ...args], { stdin: enc(password + "\n") });
}

/** Runs `work` on every item, `width` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item; (item = queue.shift()) !== undefined;) await work(item);
    }),
  );
}

Deno.test({
  name:
    "the schemes cvm pw -l lists that doveadm pw -l lists are all of Dovecot's but four we do not make",
  ignore: !have(DOVEADM),
  async fn() {
    const theirs = (await doveadm(["-l"])).stdout.trim().split(/\s+/).sort();
    await ensureDist();
    const ours = (await run(`${dist}/cvm`, ["pw", "-l"])).stdout.trim()
      .split(/\s+/);
    assertEquals(ours, listSchemes());
    assertEquals(
      theirs.filter((s) => !ours.includes(s)),
      ["DIGEST-MD5", "OTP", "PLAIN-MD4", "PLAIN-TRUNC"],
    );
    assertEquals(ours.filter((s) => !theirs.includes(s)), [
      "SHA384",
      "SSHA384",
    ]);
  },
});

Deno.test({
  name:
    "every hash doveadm pw -s makes, the registry and cvm pw -t verify; a wrong password fails",
  ignore: !have(DOVEADM),
  async fn() {
    await ensureDist();
    const names = [...listSchemes({ dovecotOnly: true }), ...SUFFIXED];
    try {
      await eachLimited(names, 3, async (scheme) => {
        const made = await doveadm(["-s", scheme, "-p", PASSWORD]);
        assertEquals(made.code, 0, `doveadm -s ${scheme}: ${made.stderr}`);
        const hash = made.stdout.trim();
        assert(hash.startsWith(`{${scheme.toUpperCase()}}`), hash);
        assertEquals(await verifyPassword(hash, enc(PASSWORD)), true, hash);
        assertEquals(await verifyPassword(hash, enc(WRONG)), false, hash);
        const right = await cvmPw(["-t", hash], PASSWORD);
        assertEquals([right.code, right.stdout], [0, `${hash} (verified)\n`]);
        const wrong = await cvmPw(["-t", hash], WRONG);
        assertEquals(
          [wrong.code, wrong.stdout, wrong.stderr],
          [1, "", "cvm pw: the password does not match\n"],
          hash,
        );
      });
    } finally {
      stopIdleArgon2Workers();
    }
  },
});

Deno.test({
  name:
    "every hash cvm pw -s makes, doveadm pw -t verifies; a wrong password fails",
  ignore: !have(DOVEADM),
  async fn() {
    await ensureDist();
    const names = [...listSchemes({ dovecotOnly: true }), ...SUFFIXED];
    await eachLimited(names, 3, async (scheme) => {
      const made = await cvmPw(["-s", scheme], PASSWORD);
      assertEquals(made.code, 0, `cvm pw -s ${scheme}: ${made.stderr}`);
      const hash = made.stdout.trim();
      assertEquals(made.stdout, `${hash}\n`);
      assert(hash.startsWith(`{${scheme.toUpperCase()}}`), hash);
      const right = await doveadm(["-t", hash, "-p", PASSWORD]);
      assertEquals(right.code, 0, `doveadm -t ${hash}: ${right.stderr}`);
      assertEquals(right.stdout, `${hash} (verified)\n`);
      const wrong = await doveadm(["-t", hash, "-p", WRONG]);
      assert(wrong.code !== 0, `doveadm accepted a wrong password for ${hash}`);
      assert(/mismatch/.test(wrong.stderr), wrong.stderr);
    });
  },
});

Deno.test({
  name:
    "cvm pw's cost flags make hashes doveadm pw -t verifies, at the costs asked",
  ignore: !have(DOVEADM),
  async fn() {
    await ensureDist();
    const cases: [string[], RegExp][] = [
      [
        ["-s", "SHA512-CRYPT", "-r", "10000"],
        /^\{SHA512-CRYPT\}\$6\$rounds=10000\$/,
      ],
      [
        ["-s", "SHA256-CRYPT", "-r", "6000"],
        /^\{SHA256-CRYPT\}\$5\$rounds=6000\$/,
      ],
      [["-s", "BLF-CRYPT", "-r", "6"], /^\{BLF-CRYPT\}\$2y\$06\$/],
      [["-s", "PBKDF2", "-r", "1000"], /^\{PBKDF2\}\$1\$[^$]{16}\$1000\$/],
      [["-s", "SCRAM-SHA-1", "-r", "5000"], /^\{SCRAM-SHA-1\}5000,/],
      // Fewer than 4096 SCRAM iterations Dovecot refuses: raised to 4096.
      [["-s", "SCRAM-SHA-256", "-r", "1000"], /^\{SCRAM-SHA-256\}4096,/],
      [
        ["-s", "ARGON2ID", "-r", "2", "-m", "8192", "-P", "2"],
        /^\{ARGON2ID\}\$argon2id\$v=19\$m=8192,t=2,p=2\$/,
      ],
      [
        ["-s", "ARGON2I", "-r", "3", "-m", "4096"],
        /^\{ARGON2I\}\$argon2i\$v=19\$m=4096,t=3,p=1\$/,
      ],
    ];
    await eachLimited(cases, 3, async ([args, shape]) => {
      const made = await cvmPw(args, PASSWORD);
      assertEquals(made.code, 0, `cvm pw ${args.join(" ")}: ${made.stderr}`);
      const hash = made.stdout.trim();
      assert(shape.test(hash), hash);
      const right = await doveadm(["-t", hash, "-p", PASSWORD]);
      assertEquals(right.code, 0, `doveadm -t ${hash}: ${right.stderr}`);
    });
  },
});
