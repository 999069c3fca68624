/**
 * The SASL library's parts: base64 as the reference reads it, the line
 * reader, the mechanism table and replies, and whole exchanges driven in
 * process through a scripted client.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  decodeBase64Line,
  encodeBase64,
  LineReader,
  saslAuth1,
  saslAuth2,
  saslAuthMessage,
  saslCaps,
  SaslCode,
  type SaslIo,
  saslMechanisms,
} from "../../../clients/sasl/mod.ts";
import { dist, ensureDist, tempDir } from "../../_helpers.ts";

const encoder = new TextEncoder();
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

Deno.test("decodeBase64Line() stops at padding, refuses anything odd", () => {
  assertEquals(text(decodeBase64Line("")), "");
  assertEquals(text(decodeBase64Line("Ym9i")), "bob");
  assertEquals(text(decodeBase64Line("Ym9iYQ==")), "boba");
  assertEquals(text(decodeBase64Line("Ym9iYQ=")), "boba");
  assertEquals(text(decodeBase64Line("Ym9iYWI=")), "bobab");
  assertEquals(text(decodeBase64Line("Ym9iYWJ=")), "bobab");
  assertEquals(text(decodeBase64Line("YQ==YQ==")), "a");
  assertEquals(text(decodeBase64Line("YQ== trailing")), "a");
  for (
    const bad of [
      "Ym9",
      "Ym9i ",
      " Ym9i",
      "Ym9iYQ",
      "Ym9i=",
      "====",
      "Ym-_",
      "Y",
    ]
  ) {
    assertEquals(decodeBase64Line(bad), undefined, bad);
  }
});

Deno.test("encodeBase64() pads", () => {
  assertEquals(encodeBase64(encoder.encode("")), "");
  assertEquals(encodeBase64(encoder.encode("a")), "YQ==");
  assertEquals(encodeBase64(encoder.encode("ab")), "YWI=");
  assertEquals(encodeBase64(encoder.encode("Password:")), "UGFzc3dvcmQ6");
  const all = new Uint8Array(256).map((_, i) => i);
  assertEquals(decodeBase64Line(encodeBase64(all)), all);
});

function stream(...chunks: string[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((c) => encoder.encode(c)));
}

Deno.test("LineReader reads lines as the reference does", async () => {
  const reader = new LineReader(stream("one\r\ntw", "o\n\r\nthree\r\r\nlast"));
  const lines = [];
  for (let line; (line = await reader.readLine()) !== undefined;) {
    lines.push(line);
  }
  // The last line, without its newline, loses its last character.
  assertEquals(lines, ["one", "two", "", "three\r", "las"]);
  assertEquals(await new LineReader(stream()).readLine(), undefined);
  const cr = new LineReader(stream("abc\r"));
  assertEquals(await cr.readLine(), "abc");
});

Deno.test("saslMechanisms() and saslCaps() list what is configured", () => {
  assertEquals(saslMechanisms({}), []);
  assertEquals(saslCaps({}), undefined);
  assertEquals(
    saslMechanisms({ CVM_SASL_PLAIN: "p", CVM_SASL_CRAM_MD5: "c" }),
    [
      { name: "LOGIN", module: "p" },
      { name: "PLAIN", module: "p" },
      { name: "CRAM-MD5", module: "c" },
    ],
  );
  assertEquals(
    saslMechanisms({ CVM_SASL_PLAIN: "p", CVM_SASL_LOGIN: "l" })[0],
    { name: "LOGIN", module: "l" },
  );
  assertEquals(saslCaps({ CVM_SASL_LOGIN: "" }), "AUTH LOGIN");
});

Deno.test("saslAuthMessage() gives the reference's replies", () => {
  assertEquals(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((c) => {
      const m = saslAuthMessage(c);
      return `${m.code} ${m.message}`;
    }),
    [
      "451 Internal error.",
      "501 Authentication failed.",
      "504 Unrecognized authentication mechanism.",
      "451 Internal error.",
      "451 Internal error.",
      "535 Response was required but not given.",
      "535 Initial response not allowed.",
      "501 Could not decode the response.",
      "535 End of file reached.",
      "451 Internal error.",
    ],
  );
});

/** A client that answers with these lines and records what it was sent. */
function scripted(...answers: string[]): SaslIo & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    readLine: () => Promise.resolve(answers.shift()),
    write: (t) => {
      sent.push(t);
      return Promise.resolve();
    },
  };
}

Deno.test({
  name: "saslAuth2() and saslAuth1() run whole exchanges",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const dir = tempDir();
    try {
      const pwfile = `${dir.path}/passwd`;
      Deno.writeTextFileSync(pwfile, "alice:apw:1:2:Alice:/home/alice:\n");
      const env = {
        CVM_PWFILE_PATH: pwfile,
        CVM_SASL_PLAIN: `${dist}/cvm-pwfile`,
      };
      const log: string[] = [];
      const exported: Record<string, string> = {};
      const options = {
        env,
        prefix: "+ ",
        suffix: "\r\n",
        log: (l: string) => log.push(l),
        setenv: (k: string, v: string) => exported[k] = v,
      };

      await t.step("LOGIN in two steps", async () => {
        log.length = 0;
        const io = scripted(btoa("alice"), btoa("apw"));
        const { code, state } = await saslAuth2(
          io,
          "login",
          undefined,
          options,
        );
        assertEquals(code, SaslCode.AUTH_OK);
        assertEquals(io.sent, ["+ VXNlcm5hbWU6\r\n", "+ UGFzc3dvcmQ6\r\n"]);
        assertEquals(state.username, "alice");
        assertEquals(state.facts?.directory, "/home/alice");
        assertEquals(log, ["SASL AUTH login username=alice"]);
        // As the reference, the facts go to the environment.
        assertEquals(exported, {
          USER: "alice",
          UID: "1",
          GID: "2",
          HOME: "/home/alice",
          SHELL: "",
          NAME: "Alice",
        });
      });

      await t.step("PLAIN from an AUTH argument", async () => {
        log.length = 0;
        const io = scripted();
        const { code } = await saslAuth1(
          io,
          `PLAIN ${btoa("\0alice\0bad")}`,
          options,
        );
        assertEquals(code, SaslCode.AUTH_FAILED);
        assertEquals(io.sent, []);
        assertEquals(log, ["SASL AUTH PLAIN failed username=alice"]);
      });

      await t.step("end of input, cancel, bad response", async () => {
        assertEquals(
          (await saslAuth2(scripted(), "PLAIN", undefined, options)).code,
          SaslCode.RESP_EOF,
        );
        log.length = 0;
        assertEquals(
          (await saslAuth2(scripted("*"), "PLAIN", undefined, options)).code,
          SaslCode.AUTH_FAILED,
        );
        assertEquals(log, [
          "SASL AUTH PLAIN failed: aborted",
          "SASL AUTH PLAIN failed, no username",
        ]);
        assertEquals(
          (await saslAuth2(scripted("!"), "PLAIN", undefined, options)).code,
          SaslCode.RESP_BAD,
        );
        assertEquals(
          (await saslAuth2(scripted(), "CRAM-MD5", undefined, options)).code,
          SaslCode.NO_MECH,
        );
      });

      await t.step(
        "failure log lines name who failed, made safe for a log (as upstream after 0.97)",
        async () => {
          const run = async (
            argument: string,
            answers: string[] = [],
            env: Record<string, string> = {},
          ) => {
            log.length = 0;
            await saslAuth1(scripted(...answers), argument, {
              ...options,
              env: { ...options.env, ...env },
            });
            return log;
          };
          const ucspi = { PROTO: "TCP", TCPLOCALHOST: "mail.example" };
          assertEquals(await run(`PLAIN ${btoa("\0alice\0bad")}`, [], ucspi), [
            "SASL AUTH PLAIN failed username=alice domain=mail.example",
          ]);
          // The authorization identity is not who failed.
          assertEquals(await run(`PLAIN ${btoa("admin\0alice\0bad")}`), [
            "SASL AUTH PLAIN failed username=alice",
          ]);
          // Bytes outside 32-127 are "?"; a name ends at a NUL.
          assertEquals(
            await run(`PLAIN ${btoa("\0a\x1b[2J\xffb\0bad")}`),
            ["SASL AUTH PLAIN failed username=a?[2J?b"],
          );
          assertEquals(await run("LOGIN", [btoa("al\0x"), btoa("bad")]), [
            "SASL AUTH LOGIN failed username=al",
          ]);
          assertEquals(await run(`PLAIN ${btoa("\0\0apw")}`), [
            "SASL AUTH PLAIN failed, no username",
          ]);
          assertEquals(await run("LOGIN"), [
            "SASL AUTH LOGIN failed, no username",
          ]);
          assertEquals(await run("LOGIN", [btoa("alice")]), [
            "SASL AUTH LOGIN failed username=alice",
          ]);
          assertEquals(await run("BOGUS"), [
            "SASL AUTH BOGUS failed: no such mechanism",
          ]);
          assertEquals(await run("PLAIN !"), [
            "SASL AUTH PLAIN failed: bad response",
          ]);
        },
      );
    } finally {
      dir.cleanup();
    }
  },
});
