/**
 * The server side of SASL for mail servers (PLAIN, LOGIN, CRAM-MD5),
 * validating through CVM, with the framing of SMTP, IMAP and POP3.
 *
 * @example
 * ```ts
 * import { encodeBase64 } from "./mod.ts";
 * encodeBase64(new TextEncoder().encode("bob")); // "Ym9i"
 * ```
 *
 * @module
 */
export * from "./sasl.ts";
