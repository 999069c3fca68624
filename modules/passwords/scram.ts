/**
 * `SCRAM-SHA-1` and `SCRAM-SHA-256` (RFC 5802, RFC 7677) as Dovecot stores
 * them: `ITERATIONS,SALT,STOREDKEY,SERVERKEY`, the last three in base64.
 * A password checks when H(HMAC(Hi(password, salt, i), "Client Key"))
 * equals the stored key. SCRAM itself is no cvm mechanism: these values
 * check plain passwords only.
 *
 * @module
 */

import { bytesEqual, toBytes } from "../../protocol/mod.ts";
import { DEFAULT_SCRAM_ROUNDS } from "./cost_defaults.ts";
import { fromBase64, toBase64 } from "./encoding.ts";
import { pbkdf2 } from "./pbkdf2.ts";
import type { HashParams, SchemeCode } from "./scheme.ts";
import { randomBytes, verdict } from "./scheme.ts";

/** The length of a new salt, in bytes (as Dovecot). */
const SALT_LENGTH = 16;

type ScramHash = "SHA-1" | "SHA-256";

const KEY_LENGTH: Readonly<Record<ScramHash, number>> = {
  "SHA-1": 20,
  "SHA-256": 32,
};

async function hmac(
  hash: ScramHash,
  key: Uint8Array,
  message: Uint8Array,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key.slice(),
    { name: "HMAC", hash },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message.slice()));
}

/** StoredKey and ServerKey of a password. */
async function keys(
  hash: ScramHash,
  password: Uint8Array,
  salt: Uint8Array,
  rounds: number,
): Promise<{ storedKey: Uint8Array; serverKey: Uint8Array }> {
  const salted = await pbkdf2(hash, password, salt, rounds, KEY_LENGTH[hash]);
  const clientKey = await hmac(hash, salted, toBytes("Client Key"));
  const serverKey = await hmac(hash, salted, toBytes("Server Key"));
  const storedKey = new Uint8Array(
    await crypto.subtle.digest(hash, clientKey.slice()),
  );
  salted.fill(0);
  clientKey.fill(0);
  return { storedKey, serverKey };
}

function parse(
  hash: ScramHash,
  raw: Uint8Array,
):
  | { rounds: number; salt: Uint8Array; storedKey: Uint8Array }
  | undefined {
  const fields = new TextDecoder().decode(raw).split(",");
  if (fields.length !== 4 || !/^[0-9]{1,10}$/.test(fields[0])) return undefined;
  const rounds = Number(fields[0]);
  const salt = fromBase64(fields[1]);
  const storedKey = fromBase64(fields[2]);
  const serverKey = fromBase64(fields[3]);
  if (
    rounds < DEFAULT_SCRAM_ROUNDS || rounds > 0xffffffff ||
    salt === undefined ||
    storedKey?.length !== KEY_LENGTH[hash] ||
    serverKey?.length !== KEY_LENGTH[hash]
  ) {
    return undefined;
  }
  return { rounds, salt, storedKey };
}

async function make(
  hash: ScramHash,
  password: Uint8Array,
  rounds: number,
): Promise<Uint8Array> {
  const salt = randomBytes(SALT_LENGTH);
  const { storedKey, serverKey } = await keys(hash, password, salt, rounds);
  return toBytes(
    `${rounds},${toBase64(salt)},${toBase64(storedKey)},${toBase64(serverKey)}`,
  );
}

/**
 * A SCRAM scheme's code: `rounds` sets the iterations (default and
 * least `DEFAULT_SCRAM_ROUNDS`, 4096: Dovecot refuses fewer).
 *
 * @param hash The hash: "SHA-1" or "SHA-256".
 * @returns The code.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scramScheme } from "./scram.ts";
 * const scram = scramScheme("SHA-256");
 * const pw = new TextEncoder().encode("pw");
 * assert.equal(await scram.verify(pw, await scram.generate(pw, {})), "match");
 * ```
 */
export function scramScheme(hash: ScramHash): SchemeCode {
  return {
    generate: (password: Uint8Array, params: HashParams) =>
      // Dovecot refuses fewer than 4096 iterations (RFC 7677's minimum).
      make(hash, password, Math.max(params.rounds || 0, DEFAULT_SCRAM_ROUNDS)),
    async verify(password, raw) {
      const stored = parse(hash, raw);
      if (stored === undefined) return "unusable";
      const made = await keys(hash, password, stored.salt, stored.rounds);
      return verdict(bytesEqual(made.storedKey, stored.storedKey));
    },
  };
}
