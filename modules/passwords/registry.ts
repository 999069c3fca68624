/**
 * The password-scheme registry: Dovecot's `{SCHEME}` values read and made
 * as Dovecot does. One entry per scheme name with its default encoding,
 * its raw length and the challenge-response mechanisms it can answer;
 * each scheme's code loads on first use, so a module that never meets a
 * `{SCHEME}` pays nothing for it (no hash-wasm, no node:crypto).
 *
 * A stored value is `{NAME}TEXT` or `{NAME.SUFFIX}TEXT` (`.b64`,
 * `.base64`, `.hex`: the raw bytes in that encoding). A value without a
 * `{` prefix is read in a default scheme, except that `$1$SALT$HASH` is
 * always MD5-CRYPT, as in Dovecot. Names match in any case.
 *
 * @module
 */

import { CvmError, ErrorCode, toBytes } from "../../protocol/mod.ts";
import { defaultCryptSetting } from "../../sys/mod.ts";
import {
  decodeStored,
  encodeStored,
  type Encoding,
  parseEncodingSuffix,
} from "./encoding.ts";
import type {
  ChallengeMechanism,
  HashParams,
  SchemeCode,
  Verdict,
} from "./scheme.ts";

/** One scheme name the registry knows. */
export interface SchemeInfo {
  /** The name, in upper case (`SHA256-CRYPT`). */
  readonly name: string;
  /**
   * Names that make the same hashes share a family (`SHA` and `SHA1`;
   * `MD5` and `MD5-CRYPT`; `PLAIN`, `CLEAR` and `CLEARTEXT` …).
   */
  readonly family: string;
  /** How the raw bytes are written when no suffix says otherwise. */
  readonly encoding: Encoding;
  /** The raw length, or 0 when it varies. */
  readonly rawLength: number;
  /** The challenge-response mechanisms a stored value can answer. */
  readonly mechanisms: readonly ChallengeMechanism[];
  /** Whether Dovecot knows it (`doveadm pw -l`); else it is OpenLDAP's. */
  readonly dovecot: boolean;
  /** Loads the scheme's code. */
  readonly load: () => Promise<SchemeCode>;
}

/** A scheme name as written, with its encoding. */
export interface SchemeRef {
  /** The scheme. */
  readonly info: SchemeInfo;
  /** The encoding of its raw bytes: the suffix's, else the scheme's. */
  readonly encoding: Encoding;
  /** Whether a suffix gave the encoding. */
  readonly explicit: boolean;
  /** The name as a `{…}` prefix writes it: upper case, suffix included. */
  readonly label: string;
}

const crypts = () => import("./crypt_schemes.ts");
const digests = () => import("./digest_schemes.ts");
const plains = () => import("./plain_schemes.ts");
const crams = () => import("./cram_md5.ts");

const PLAIN_MECHANISMS: readonly ChallengeMechanism[] = ["apop", "cram-md5"];
const CRAM_MECHANISMS: readonly ChallengeMechanism[] = ["cram-md5"];

function entry(
  name: string,
  family: string,
  encoding: Encoding,
  rawLength: number,
  load: () => Promise<SchemeCode>,
  options: { mechanisms?: readonly ChallengeMechanism[]; dovecot?: boolean } =
    {},
): SchemeInfo {
  return {
    name,
    family,
    encoding,
    rawLength,
    mechanisms: options.mechanisms ?? [],
    dovecot: options.dovecot ?? true,
    load,
  };
}

/** Every scheme, by upper-case name. */
const SCHEMES: ReadonlyMap<string, SchemeInfo> = new Map(
  [
    ...["PLAIN", "CLEAR", "CLEARTEXT"].map((name) =>
      entry(
        name,
        "PLAIN",
        "none",
        0,
        async () => (await plains()).plainScheme,
        { mechanisms: PLAIN_MECHANISMS },
      )
    ),
    entry("CRYPT", "CRYPT", "none", 0, async () => (await crypts()).cryptAny),
    entry(
      "DES-CRYPT",
      "DES-CRYPT",
      "none",
      0,
      async () => (await crypts()).desCrypt,
    ),
    entry(
      "MD5-CRYPT",
      "MD5-CRYPT",
      "none",
      0,
      async () => (await crypts()).md5Crypt,
    ),
    entry(
      "MD5",
      "MD5-CRYPT",
      "none",
      0,
      async () => (await crypts()).md5Either,
    ),
    entry(
      "SHA256-CRYPT",
      "SHA256-CRYPT",
      "none",
      0,
      async () => (await crypts()).sha256Crypt,
    ),
    entry(
      "SHA512-CRYPT",
      "SHA512-CRYPT",
      "none",
      0,
      async () => (await crypts()).sha512Crypt,
    ),
    entry(
      "BLF-CRYPT",
      "BLF-CRYPT",
      "none",
      0,
      async () => (await crypts()).blfCrypt,
    ),
    ...(["ARGON2I", "ARGON2ID"] as const).map((name) =>
      entry(
        name,
        name,
        "none",
        0,
        async () =>
          (await import("./argon2.ts")).argon2Scheme(
            name === "ARGON2I" ? "argon2i" : "argon2id",
          ),
      )
    ),
    entry(
      "PBKDF2",
      "PBKDF2",
      "none",
      0,
      async () => (await import("./pbkdf2.ts")).pbkdf2Scheme,
    ),
    ...(["SCRAM-SHA-1", "SCRAM-SHA-256"] as const).map((name) =>
      entry(
        name,
        name,
        "none",
        0,
        async () =>
          (await import("./scram.ts")).scramScheme(
            name === "SCRAM-SHA-1" ? "SHA-1" : "SHA-256",
          ),
      )
    ),
    ...([
      ["SHA", "SHA1", "SHA-1", 20, true],
      ["SHA1", "SHA1", "SHA-1", 20, true],
      ["SHA256", "SHA256", "SHA-256", 32, true],
      ["SHA384", "SHA384", "SHA-384", 48, false],
      ["SHA512", "SHA512", "SHA-512", 64, true],
    ] as const).map(([name, family, digest, length, dovecot]) =>
      entry(
        name,
        family,
        "base64",
        length,
        async () => (await digests()).unsaltedScheme(digest),
        { dovecot },
      )
    ),
    ...([
      ["SSHA", "SHA-1", true],
      ["SSHA256", "SHA-256", true],
      ["SSHA384", "SHA-384", false],
      ["SSHA512", "SHA-512", true],
      ["SMD5", "MD5", true],
    ] as const).map(([name, digest, dovecot]) =>
      entry(
        name,
        name,
        "base64",
        0,
        async () => (await digests()).saltedScheme(digest),
        { dovecot },
      )
    ),
    entry(
      "PLAIN-MD5",
      "PLAIN-MD5",
      "hex",
      16,
      async () => (await digests()).unsaltedScheme("MD5"),
    ),
    entry(
      "LDAP-MD5",
      "PLAIN-MD5",
      "base64",
      16,
      async () => (await digests()).unsaltedScheme("MD5"),
    ),
    ...["CRAM-MD5", "HMAC-MD5"].map((name) =>
      entry(
        name,
        "CRAM-MD5",
        "hex",
        32,
        async () => (await crams()).cramMd5Scheme,
        { mechanisms: CRAM_MECHANISMS },
      )
    ),
  ].map((info) => [info.name, info]),
);

/**
 * Dovecot's schemes that this registry does not implement: a stored value
 * in one of them is named in the error, where an unknown name (which may
 * be part of a password) is not.
 */
const DOVECOT_ONLY = new Set(["DIGEST-MD5", "OTP", "PLAIN-MD4", "PLAIN-TRUNC"]);

/**
 * Finds a scheme by name, with an optional encoding suffix
 * (`SHA256.HEX`, `ssha512.b64`); any case.
 *
 * @param name The name.
 * @returns The scheme and encoding, or undefined for an unknown name or suffix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findScheme } from "./registry.ts";
 * assert.equal(findScheme("sha256.hex")?.label, "SHA256.HEX");
 * assert.equal(findScheme("SSHA512")?.encoding, "base64");
 * assert.equal(findScheme("NOPE"), undefined);
 * ```
 */
export function findScheme(name: string): SchemeRef | undefined {
  const dot = name.indexOf(".");
  const base = (dot < 0 ? name : name.slice(0, dot)).toUpperCase();
  const info = SCHEMES.get(base);
  if (info === undefined) return undefined;
  if (dot < 0) {
    return { info, encoding: info.encoding, explicit: false, label: base };
  }
  const encoding = parseEncodingSuffix(name.slice(dot + 1));
  if (encoding === undefined) return undefined;
  return { info, encoding, explicit: true, label: name.toUpperCase() };
}

/**
 * The names of every scheme, sorted.
 *
 * @param options `dovecotOnly`: only the names `doveadm pw -l` lists too.
 * @returns The names.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listSchemes } from "./registry.ts";
 * assert.equal(listSchemes().includes("ARGON2ID"), true);
 * assert.equal(listSchemes({ dovecotOnly: true }).includes("SSHA384"), false);
 * ```
 */
export function listSchemes(options: { dovecotOnly?: boolean } = {}): string[] {
  return [...SCHEMES.values()]
    .filter((s) => s.dovecot || !options.dovecotOnly)
    .map((s) => s.name)
    .sort();
}

/**
 * The scheme's info by name (no suffix), for the names the registry lists.
 *
 * @param name The name, any case.
 * @returns The info, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schemeInfo } from "./registry.ts";
 * assert.deepEqual(schemeInfo("cram-md5")?.mechanisms, ["cram-md5"]);
 * ```
 */
export function schemeInfo(name: string): SchemeInfo | undefined {
  return SCHEMES.get(name.toUpperCase());
}

/** The error of a stored value whose `{NAME}` the registry does not know. */
export class UnknownSchemeError extends CvmError {
  /**
   * Makes the error: CONFIG, since the account's stored value is wrong.
   *
   * @param name The name in the braces; it is put in the message only when
   *   it is one of Dovecot's schemes, since an unknown one may be a
   *   plain-text password that starts with `{`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { UnknownSchemeError } from "./registry.ts";
   * assert.equal(new UnknownSchemeError("OTP").message, "stored password in Dovecot's {OTP} scheme, which cvm does not support");
   * ```
   */
  constructor(name: string) {
    super(
      ErrorCode.CONFIG,
      DOVECOT_ONLY.has(name.toUpperCase())
        ? `stored password in Dovecot's {${name.toUpperCase()}} scheme, which cvm does not support`
        : "stored password with an unknown {SCHEME} prefix",
    );
    this.name = "UnknownSchemeError";
  }
}

/** How to read a stored value. */
export interface StoredOptions {
  /**
   * The scheme of a value without a `{NAME}` prefix (`CVM_DEFAULT_SCHEME`);
   * default `CRYPT`.
   */
  defaultScheme?: string;
}

/** A stored value split into its scheme and its text. */
interface SplitStored {
  /** The name in braces, or undefined when the value has none. */
  name: string | undefined;
  /** The text after the prefix (the whole value when there is none). */
  text: string;
  /** The same as bytes: those of the value as stored. */
  bytes: Uint8Array;
}

/** Splits `{NAME}TEXT`; `$1$salt$hash` is MD5-CRYPT, as Dovecot reads it. */
function splitStored(stored: string | Uint8Array): SplitStored {
  // toBytes undoes the exact decoding of a file's or a row's bytes.
  const bytes = typeof stored === "string" ? toBytes(stored) : stored;
  const value = typeof stored === "string"
    ? stored
    : new TextDecoder().decode(stored);
  if (value.startsWith("$1$")) {
    const salt = value.indexOf("$", 3);
    if (salt >= 0) {
      // Anything after a further `$` is ignored, as Dovecot does.
      const end = value.indexOf("$", salt + 1);
      const text = end < 0 ? value : value.slice(0, end);
      return { name: "MD5-CRYPT", text, bytes: toBytes(text) };
    }
  }
  const close = value.startsWith("{") ? value.indexOf("}") : -1;
  if (close < 0) return { name: undefined, text: value, bytes };
  // The prefix is ASCII up to `}` (a `{` then a non-ASCII byte is no
  // scheme anyone knows), so the text starts at the same byte offset.
  const name = value.slice(1, close);
  return {
    name,
    text: value.slice(close + 1),
    bytes: bytes.subarray(toBytes(value.slice(0, close + 1)).length),
  };
}

/**
 * The scheme of a stored value.
 *
 * @param stored The stored value.
 * @param options The default scheme.
 * @returns The scheme and encoding.
 * @throws {UnknownSchemeError} For a `{NAME}` the registry does not know.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedScheme } from "./registry.ts";
 * assert.equal(storedScheme("{SSHA256}abcd").info.name, "SSHA256");
 * assert.equal(storedScheme("$6$salt$hash").info.name, "CRYPT");
 * ```
 */
export function storedScheme(
  stored: string | Uint8Array,
  options: StoredOptions = {},
): SchemeRef {
  return resolve(splitStored(stored), options).ref;
}

/** The scheme and the raw bytes of a stored value (undefined raw: not decodable). */
function resolve(
  split: SplitStored,
  options: StoredOptions,
): { ref: SchemeRef; raw: Uint8Array | undefined } {
  const name = split.name ?? options.defaultScheme ?? "CRYPT";
  const ref = findScheme(name);
  if (ref === undefined) throw new UnknownSchemeError(name);
  const { info, encoding, explicit } = ref;
  const raw = encoding === "none"
    ? split.bytes
    : decodeStored(split.text, encoding, info.rawLength, explicit);
  return { ref, raw };
}

/**
 * Checks a password against a stored value, telling an unusable value (a
 * lock, a value that is not of its scheme's form, an empty one) from a
 * wrong password; a caller that keeps timing even uses the difference.
 *
 * @param stored The stored value (`{SCHEME}…`, or in the default scheme).
 * @param password The password given.
 * @param options The default scheme.
 * @returns "match", "mismatch" or "unusable".
 * @throws {UnknownSchemeError} For a `{NAME}` the registry does not know.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkStored } from "./registry.ts";
 * const pw = new TextEncoder().encode("secret");
 * assert.equal(await checkStored("{PLAIN}secret", pw), "match");
 * assert.equal(await checkStored("{SHA}!", pw), "unusable");
 * ```
 */
export async function checkStored(
  stored: string | Uint8Array,
  password: Uint8Array,
  options: StoredOptions = {},
): Promise<Verdict> {
  const { ref, raw } = resolve(splitStored(stored), options);
  if (raw === undefined || raw.length === 0) return "unusable";
  return await (await ref.info.load()).verify(password, raw);
}

/**
 * Checks a password against a stored value. An unusable stored value
 * (a lock, a malformed or empty one) never matches.
 *
 * @param stored The stored value (`{SCHEME}…`, or in the default scheme).
 * @param password The password given.
 * @param options The default scheme.
 * @returns True when it matches.
 * @throws {UnknownSchemeError} For a `{NAME}` the registry does not know.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyPassword } from "./registry.ts";
 * const pw = new TextEncoder().encode("secret");
 * assert.equal(await verifyPassword("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", pw), true);
 * assert.equal(await verifyPassword("{PLAIN}other", pw), false);
 * ```
 */
export async function verifyPassword(
  stored: string | Uint8Array,
  password: Uint8Array,
  options: StoredOptions = {},
): Promise<boolean> {
  return await checkStored(stored, password, options) === "match";
}

/**
 * Makes a new stored value: `{LABEL}` and the hash in the scheme's (or
 * the suffix's) encoding, with a fresh salt.
 *
 * @param scheme The scheme name, with an optional suffix (`SHA256.HEX`).
 * @param password The password (no NUL: C-string schemes would cut it).
 * @param params Cost parameters; the scheme's defaults where unset.
 * @returns The value, e.g. `{SSHA512}…`.
 * @throws {UnknownSchemeError} For an unknown scheme or suffix.
 * @throws {RangeError} For a password with a NUL, or a PLAIN value of
 *   bytes that are not UTF-8 (it could not be stored as text).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashPassword } from "./registry.ts";
 * assert.equal(await hashPassword("SHA256.hex", new TextEncoder().encode("pw")), "{SHA256.HEX}30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
 * ```
 */
export async function hashPassword(
  scheme: string,
  password: Uint8Array,
  params: HashParams = {},
): Promise<string> {
  const ref = findScheme(scheme);
  if (ref === undefined) throw new UnknownSchemeError(scheme);
  if (password.includes(0)) {
    throw new RangeError("a password with a NUL byte cannot be hashed");
  }
  const raw = await (await ref.info.load()).generate(password, params);
  if (ref.encoding === "none") {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      throw new RangeError(`{${ref.label}} needs a password that is UTF-8`);
    }
  }
  return `{${ref.label}}${encodeStored(raw, ref.encoding)}`;
}

/**
 * The hash kind inside a crypt-family or Argon2 value, from its text:
 * `{CRYPT}$6$…` and `{SHA512-CRYPT}$6$…` are the same kind.
 */
function kindOf(ref: SchemeRef, text: string): string {
  const family = ref.info.family;
  if (family === "ARGON2I" || family === "ARGON2ID") {
    return text.startsWith("$argon2id$")
      ? "ARGON2ID"
      : text.startsWith("$argon2i$")
      ? "ARGON2I"
      : family;
  }
  if (!family.endsWith("CRYPT")) return family;
  if (text.startsWith("$1$")) return "MD5-CRYPT";
  if (text.startsWith("$5$")) return "SHA256-CRYPT";
  if (text.startsWith("$6$")) return "SHA512-CRYPT";
  if (/^\$2[a-z]\$/.test(text)) return "BLF-CRYPT";
  if (/^[./0-9A-Za-z]{13}$/.test(text)) return "DES-CRYPT";
  const id = /^\$[^$]+\$/.exec(text);
  return id ? `CRYPT ${id[0]}` : family;
}

/**
 * Whether a stored value is already in a scheme: the question an upgrade
 * on login asks before writing a new hash. Names of one family are the
 * same scheme (`SHA` and `SHA1`); a crypt hash counts as the kind its
 * text shows (`{CRYPT}$6$…` is SHA512-CRYPT; `CRYPT` itself is the
 * system's default kind); a suffix in `scheme` must match the value's
 * encoding too. Costs are not compared.
 *
 * @param stored The stored value.
 * @param scheme The scheme wanted, with an optional suffix.
 * @param options The default scheme for a value without a prefix.
 * @returns True when the value is in that scheme; false otherwise, or
 *   when either name is unknown.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStoredInScheme } from "./registry.ts";
 * assert.equal(isStoredInScheme("{SHA1}x", "SHA"), true);
 * assert.equal(isStoredInScheme("$6$salt$hash", "SHA512-CRYPT"), true);
 * assert.equal(isStoredInScheme("{PLAIN}pw", "ARGON2ID"), false);
 * ```
 */
export function isStoredInScheme(
  stored: string | Uint8Array,
  scheme: string,
  options: StoredOptions = {},
): boolean {
  const want = findScheme(scheme);
  if (want === undefined) return false;
  let split: SplitStored;
  let have: SchemeRef;
  try {
    split = splitStored(stored);
    have = resolve(split, options).ref;
  } catch {
    return false;
  }
  if (want.explicit && want.encoding !== have.encoding) return false;
  const wantKind = want.info.name === "CRYPT"
    ? kindOf(want, defaultCryptSetting() ?? "")
    : want.info.family;
  return kindOf(have, split.text) === wantKind;
}

/**
 * The response a challenge-response mechanism expects for a stored value,
 * as lower-case hex; undefined when the value's scheme cannot answer it
 * (only PLAIN/CLEAR/CLEARTEXT answer APOP; they and CRAM-MD5/HMAC-MD5
 * answer CRAM-MD5) or the value is unusable.
 *
 * @param stored The stored value.
 * @param mechanism "apop" or "cram-md5".
 * @param challenge The challenge.
 * @param options The default scheme.
 * @returns The expected response.
 * @throws {UnknownSchemeError} For a `{NAME}` the registry does not know.
 * @example
 * ```ts
 * import { expectedResponse } from "./registry.ts";
 * const challenge = new TextEncoder().encode("<1896.697170952@dbc.mtview.ca.us>");
 * import assert from "node:assert/strict";
 * assert.equal(await expectedResponse("{PLAIN}tanstaaf", "apop", challenge),
 *   "c4c9334bac560ecc979e58001b3e22fb"); // RFC 1939's example
 * ```
 */
export async function expectedResponse(
  stored: string | Uint8Array,
  mechanism: ChallengeMechanism,
  challenge: Uint8Array,
  options: StoredOptions = {},
): Promise<string | undefined> {
  const { ref, raw } = resolve(splitStored(stored), options);
  if (!ref.info.mechanisms.includes(mechanism)) return undefined;
  if (raw === undefined || raw.length === 0) return undefined;
  return (await ref.info.load()).expectedResponse?.(raw, mechanism, challenge);
}

/**
 * Stops the worker threads the slow schemes keep (Argon2's) that are idle,
 * so that a script or a test ends with none running. Servers never need
 * it: idle workers stop by themselves.
 *
 * @example
 * ```ts
 * import { stopIdlePasswordWorkers } from "./registry.ts";
 * await stopIdlePasswordWorkers();
 * ```
 */
export async function stopIdlePasswordWorkers(): Promise<void> {
  // Imported here, as for hashing: a program that never met Argon2 loads
  // nothing for it until now.
  (await import("./argon2.ts")).stopIdleArgon2Workers();
}
