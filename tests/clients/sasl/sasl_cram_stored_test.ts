/**
 * CRAM-MD5 through the SASL library against a `{CRAM-MD5}` value (the
 * HMAC-MD5 context Dovecot stores, made by `doveadm pw`): the login works
 * without the password on disk; a wrong password fails; a hash that cannot
 * answer CRAM-MD5 fails too. Our cvm-pwfile in scheme mode, in command
 * mode and as a local server.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  decodeBase64Line,
  encodeBase64,
  saslAuth2,
  SaslCode,
  type SaslIo,
} from "../../../clients/sasl/mod.ts";
import {
  dist,
  ensureDist,
  have,
  run,
  startServer,
  tempDir,
} from "../../_helpers.ts";

const encoder = new TextEncoder();

/** A client that answers each challenge as `user HMAC-MD5(password, challenge)`. */
function cramClient(
  user: string,
  password: string,
): SaslIo & { sent: string[] } {
  const sent: string[] = [];
  let challenge: Uint8Array | undefined;
  return {
    sent,
    write(text) {
      sent.push(text);
      challenge = decodeBase64Line(
        text.replace(/^\+ /, "").replace(/\r\n$/, ""),
      );
      return Promise.resolve();
    },
    readLine() {
      if (challenge === undefined) return Promise.resolve(undefined);
      const digest = createHmac("md5", password).update(challenge).digest(
        "hex",
      );
      challenge = undefined;
      return Promise.resolve(encodeBase64(encoder.encode(`${user} ${digest}`)));
    },
  };
}

Deno.test({
  name:
    "SASL CRAM-MD5 logs in against a {CRAM-MD5} value made by doveadm pw, without the password on disk",
  ignore: !have("/usr/bin/doveadm"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const dir = tempDir();
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const cram = await run("/usr/bin/doveadm", [
        "pw",
        "-s",
        "CRAM-MD5",
        "-p",
        "tanstaaf",
      ]);
      const ssha = await run("/usr/bin/doveadm", [
        "pw",
        "-s",
        "SSHA256",
        "-p",
        "tanstaaf",
      ]);
      const path = `${dir.path}/passwd`;
      Deno.writeTextFileSync(
        path,
        [
          `tim:${cram.stdout.trim()}:1000:1000:Tim:/home/tim::`,
          `sam:${ssha.stdout.trim()}:1001:1001:Sam:/home/sam::`,
          "",
        ].join("\n"),
      );
      const pwfileEnv = { CVM_PWFILE_PATH: path, CVM_PWFILE_PWCMP: "scheme" };
      const socket = `${dir.path}/pwfile.sock`;
      server = await startServer(
        `${dist}/cvm-pwfile`,
        [`cvm-local:${socket}`],
        pwfileEnv,
      );
      for (const module of [`${dist}/cvm-pwfile`, `cvm-local:${socket}`]) {
        const log: string[] = [];
        const options = {
          env: { ...pwfileEnv, CVM_SASL_CRAM_MD5: module },
          prefix: "+ ",
          suffix: "\r\n",
          log: (l: string) => log.push(l),
          setenv: () => {},
        };
        await t.step(
          `${module}: right, wrong, and a hash that cannot answer`,
          async () => {
            const right = cramClient("tim", "tanstaaf");
            const ok = await saslAuth2(right, "CRAM-MD5", undefined, options);
            assertEquals(ok.code, SaslCode.AUTH_OK);
            assertEquals(ok.state.facts?.directory, "/home/tim");
            assertEquals(right.sent.length, 1);
            const wrong = await saslAuth2(
              cramClient("tim", "tanstaaX"),
              "CRAM-MD5",
              undefined,
              options,
            );
            assertEquals(wrong.code, SaslCode.AUTH_FAILED);
            // {SSHA256} holds no HMAC context: CRAM-MD5 cannot succeed.
            const hashed = await saslAuth2(
              cramClient("sam", "tanstaaf"),
              "CRAM-MD5",
              undefined,
              options,
            );
            assertEquals(hashed.code === SaslCode.AUTH_OK, false);
            assertEquals(log, [
              "SASL AUTH CRAM-MD5 username=tim",
              "SASL AUTH CRAM-MD5 failed username=tim",
              "SASL AUTH CRAM-MD5 failed username=sam",
            ]);
          },
        );
      }
    } finally {
      await server?.stop();
      dir.cleanup();
    }
  },
});
