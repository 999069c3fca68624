/**
 * The server side of SASL for mail servers, validating through CVM: the
 * mechanisms PLAIN and LOGIN (module in `$CVM_SASL_PLAIN`, or
 * `$CVM_SASL_LOGIN` for LOGIN) and CRAM-MD5 (`$CVM_SASL_CRAM_MD5`), and the
 * text framing an SMTP, POP3 or IMAP server uses: challenges sent as
 * base64 between a prefix and a suffix ({@link SaslFraming}: `334 ` and
 * CRLF for SMTP, `+ ` and CRLF for IMAP and POP3), responses read as base64
 * lines, `*` (or an empty line) to cancel.
 *
 * Replies and result codes are those of the reference's cvm-sasl library,
 * log lines those of upstream after its release 0.97 (naming who failed),
 * and as the reference does, a success puts the account's facts
 * into the environment (`USER`, `HOME`, … as cvm-checkpassword sets them).
 * Where the reference is broken this library is not: every configured
 * mechanism is offered (the reference drops some when several are set),
 * `$CVM_SASL_LOGIN` wins over `$CVM_SASL_PLAIN` for LOGIN as documented,
 * and a CRAM-MD5 digest reaches the module as the hex text the client sent
 * (the reference mangles it).
 *
 * One concern per file: `codes.ts` (result codes and replies), `base64.ts`
 * (challenges out, response lines in), `mechanisms.ts` (what the
 * environment enables), `state.ts` (the mechanisms as a state machine that
 * validates through CVM), `line_reader.ts` (response lines from a stream),
 * `exchange.ts` (framing, the AUTH drivers and their log lines).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslAuth1, saslAuthMessage, SaslFraming } from "./mod.ts";
 * // A server reads with a LineReader over the connection; here input ends at once.
 * const io = { readLine: () => Promise.resolve(undefined), write: () => Promise.resolve() };
 * const env = { CVM_SASL_PLAIN: "cvm-local:/run/cvm-unix.sock" };
 * const { code } = await saslAuth1(io, "LOGIN", { ...SaslFraming.SMTP, env, log: () => {} });
 * assert.deepEqual(saslAuthMessage(code), { code: 535, message: "End of file reached." });
 * ```
 *
 * @module
 */
export * from "./base64.ts";
export * from "./codes.ts";
export * from "./exchange.ts";
export * from "./line_reader.ts";
export * from "./mechanisms.ts";
export * from "./state.ts";
