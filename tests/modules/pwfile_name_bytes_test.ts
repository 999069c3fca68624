/**
 * Names are compared as bytes, as the reference's `strncasecmp` compares
 * them (A–Z folded, nothing else). Decoded as UTF-8 with U+FFFD
 * replacement, `jos\xe9` (ISO-8859-1 é) in the file and a request for
 * `jos\xff`, or for any other invalid byte, would both be `jos\uFFFD`: one
 * account reachable under many names, past deny lists, rate limits and
 * fail2ban rules keyed on the name sent. Each request is sent as raw bytes
 * to the reference and to ours, in command mode and to our local server,
 * and the replies must be the same bytes (facts included: the stored
 * bytes come back).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  have,
  REF,
  startServer,
  tempDir,
} from "../_helpers.ts";
import {
  askCommand,
  askLocal,
  bytesOf,
  rawRequest,
  shown,
} from "./_raw_names.ts";

/** A passwd file (a byte string): ISO-8859-1 and UTF-8 names, and plain ASCII. */
const PASSWD = [
  "jos\xe9:latin-pw:1001:100:Jos\xe9 Latin,,:/home/jos\xe9:/bin/sh",
  "ren\xc3\xa9e:utf8-pw:1002:100:Ren\xc3\xa9e,,:/home/ren\xc3\xa9e:/bin/sh",
  "bob:bob-pw:1003:100:Bob:/home/bob:/bin/sh",
  "",
].join("\n");

/** Account (a byte string), the password of the account it resembles, the reference's code. */
const CASES: Array<[string, string, number]> = [
  ["jos\xe9", "latin-pw", 0], // the byte in the file
  ["JOS\xe9", "latin-pw", 0], // A–Z fold; the username fact is the file's
  ["jos\xff", "latin-pw", 100], // another invalid byte
  ["jos\xe8", "latin-pw", 100],
  ["jos\xc9", "latin-pw", 100], // ISO-8859-1 É: not folded
  ["jos\xc3\xa9", "latin-pw", 100], // é in UTF-8
  ["jos\xef\xbf\xbd", "latin-pw", 100], // U+FFFD itself
  ["ren\xc3\xa9e", "utf8-pw", 0], // a UTF-8 name as today
  ["ren\xe9e", "utf8-pw", 100], // its ISO-8859-1 spelling
  ["REN\xc3\xa9E", "utf8-pw", 0],
  ["\xef\xbb\xbfbob", "bob-pw", 100], // a byte order mark is part of the name
  ["bob", "bob-pw", 0],
];

Deno.test("cvm-pwfile (command mode) compares names as bytes: only jos\\xe9 is jos\\xe9, exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const env = { CVM_PWFILE_PATH: `${dir.path}/passwd` };
    Deno.writeFileSync(env.CVM_PWFILE_PATH, bytesOf(PASSWD));
    for (const [account, password, code] of CASES) {
      await t.step(shown(account), async () => {
        const request = rawRequest(account, password);
        const ref = await askCommand(`${REF}/cvm-pwfile`, env, request);
        const ours = await askCommand(`${dist}/cvm-pwfile`, env, request);
        assertEquals(ref.code, code, "the reference compares bytes");
        assertEquals(ours, ref);
      });
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-pwfile-local (the index of server modes) compares names as bytes, exactly as the reference", async (t) => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  const env = { CVM_PWFILE_PATH: `${dir.path}/passwd` };
  Deno.writeFileSync(env.CVM_PWFILE_PATH, bytesOf(PASSWD));
  const socket = `${dir.path}/ours.sock`;
  const ours = await startServer(`${dist}/cvm-pwfile`, [
    `cvm-local:${socket}`,
  ], env);
  try {
    for (const [account, password, code] of CASES) {
      await t.step(shown(account), async () => {
        const request = rawRequest(account, password);
        const ref = await askCommand(`${REF}/cvm-pwfile`, env, request);
        const answer = await askLocal(socket, request);
        assertEquals(ref.code, code);
        assertEquals(answer, ref);
      });
    }
  } finally {
    await ours.stop();
    dir.cleanup();
  }
});

Deno.test("cvm-chain passes names on as bytes: over cvm-pwfile it answers exactly as the reference's chain over the reference's", async (t) => {
  if (!have(`${REF}/cvm-pwfile`) || !have(`${REF}/cvm-chain`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/passwd`;
    Deno.writeFileSync(path, bytesOf(PASSWD));
    for (const [account, password, code] of CASES) {
      await t.step(shown(account), async () => {
        const request = rawRequest(account, password);
        const ref = await askCommand(`${REF}/cvm-chain`, {
          CVM_PWFILE_PATH: path,
          CVM_CHAIN0: `${REF}/cvm-pwfile`,
        }, request);
        const ours = await askCommand(`${dist}/cvm-chain`, {
          CVM_PWFILE_PATH: path,
          CVM_CHAIN0: `${dist}/cvm-pwfile`,
        }, request);
        assertEquals(ref.code, code);
        assertEquals(ours, ref);
      });
    }
  } finally {
    dir.cleanup();
  }
});
