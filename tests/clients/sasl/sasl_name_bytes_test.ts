/**
 * The SASL library sends the user name's bytes as the client gave them:
 * decoded as UTF-8 with U+FFFD replacement, `jos\xe9` (ISO-8859-1 é) and
 * `jos\xff` would both reach the module as `jos\xef\xbf\xbd`, one account
 * under many names. PLAIN and CRAM-MD5 against cvm-pwfile, whose file holds
 * `jos\xe9`.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  saslAuth1,
  saslAuth2,
  SaslCode,
  type SaslIo,
} from "../../../clients/sasl/mod.ts";
import { dist, ensureDist, tempDir } from "../../_helpers.ts";

/** The bytes of a byte string (one character per byte). */
function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** A client answering each challenge (base64 after the "+ " prefix) with `answer`. */
function answering(answer?: (challenge: string) => string): SaslIo {
  let challenge = "";
  return {
    readLine: () => Promise.resolve(answer?.(challenge)),
    write: (line: string) => {
      challenge = atob(line.slice(2).trim());
      return Promise.resolve();
    },
  };
}

/** A byte string with its bytes above 0x7e as `\xNN`, for step names. */
function shown(text: string): string {
  return text.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

Deno.test({
  name:
    "saslAuth1() and saslAuth2() send the user name's bytes as given: jos\\xff is not jos\\xe9",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const dir = tempDir();
    try {
      const pwfile = `${dir.path}/passwd`;
      Deno.writeFileSync(
        pwfile,
        bytesOf("jos\xe9:latin-pw:1:2:Jos\xe9:/home/jos\xe9:\n"),
      );
      const options = {
        env: {
          CVM_PWFILE_PATH: pwfile,
          CVM_SASL_PLAIN: `${dist}/cvm-pwfile`,
          CVM_SASL_CRAM_MD5: `${dist}/cvm-pwfile`,
        },
        prefix: "+ ",
        suffix: "\r\n",
        log: () => {},
        setenv: () => {},
      };
      const cases: Array<[string, number]> = [
        ["jos\xe9", SaslCode.AUTH_OK],
        ["jos\xff", SaslCode.AUTH_FAILED],
        ["jos\xc3\xa9", SaslCode.AUTH_FAILED],
      ];
      for (const [name, code] of cases) {
        await t.step(`PLAIN ${shown(name)}`, async () => {
          const plain = btoa(`\0${name}\0latin-pw`);
          const result = await saslAuth1(
            answering(),
            `PLAIN ${plain}`,
            options,
          );
          assertEquals(result.code, code);
        });
        await t.step(`CRAM-MD5 ${shown(name)}`, async () => {
          const result = await saslAuth2(
            answering((challenge) => {
              const digest = createHmac("md5", "latin-pw").update(challenge)
                .digest("hex");
              return btoa(`${name} ${digest}`);
            }),
            "CRAM-MD5",
            undefined,
            options,
          );
          assertEquals(result.code, code);
        });
      }
    } finally {
      dir.cleanup();
    }
  },
});
