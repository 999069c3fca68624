/**
 * cvm-vmailmgr: vmailmgr's virtual users. The address resolves as qmail
 * delivers it (see `_qmail_lookup.ts`) to a system user; what of the
 * (lower-cased) local part follows that user's prefix is the virtual user,
 * looked up in the user's `passwd.cdb` (`$VMAILMGR_PWFILE`, relative to
 * the home).
 *
 * - A domain qmail does not handle, an address no system user takes, one
 *   without a virtual user part, or a home without the password file:
 *   out-of-scope 1 (the next module of a
 *   chain may know it). An unknown virtual user or a wrong password:
 *   rejected with out-of-scope 0.
 * - Passwords: `$0$` plain text, `$1$` MD5-crypt, anything else crypt(3).
 *   A plain-text password also answers APOP and CRAM-MD5 (the response as
 *   hex text, or as the 16 bytes the SASL library sends).
 * - `$VMAILMGR_DEFAULT` (default `+`): the catch-all entry, lookup mode only.
 * - `$VMAILMGR_LOCK_DISABLED`: refuse a mailbox that is not enabled.
 * - `$VMAILMGR_AUTOCONVERT`: after a login with a password that is not
 *   plain text, rewrite the entry with the `$0$` plain text (a new cdb
 *   beside the old, owner and mode kept, renamed over it).
 *
 * @module
 */

import {
  bytesEqual,
  CvmError,
  ErrorCode,
  type Facts,
  toBytes,
} from "../../protocol/mod.ts";
import { verifyCrypt } from "../../sys/mod.ts";
import { CachedFile } from "../file_cache/mod.ts";
import {
  type QmailAddress,
  qmailFacts,
  qmailOptionsFromEnv,
  QmailResolver,
} from "./lookup.ts";
import {
  byteString,
  byteStringBytes,
  byteStringText,
  decodeEntry,
  encodeEntry,
  isMailboxEnabled,
  mergePath,
  type VmailmgrEntry,
} from "./vmailmgr_entry.ts";
import { type Backend, type ModuleRequest, Rejection } from "../runtime/mod.ts";
import { Cdb } from "../cdb/mod.ts";
import { writeCdbAtomic } from "../cdb/mod.ts";
import { CryptDecoy, firstHash } from "../passwords/mod.ts";
import { checkPassword } from "../passwords/mod.ts";
import type { BackendContext } from "../runtime/mod.ts";

/** A virtual user found in a passwd.cdb. */
export interface VmailmgrAccount {
  /** Where the address resolved to (the system user owning the domain). */
  address: QmailAddress;
  /** The virtual user name (the rest of the lower-cased local part). */
  name: string;
  /** The cdb key the entry was found under (the name, or the default). */
  key: string;
  /** The decoded entry. */
  entry: VmailmgrEntry;
  /** The passwd.cdb file. */
  path: string;
}

type PwfileState = { missing: true } | { missing: false; cdb: Cdb };

/** Keeps the passwd.cdb files of the recently used domains, re-read on change. */
class PwfileCache {
  readonly #files = new Map<string, CachedFile<PwfileState>>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(path: string): PwfileState {
    let file = this.#files.get(path);
    if (file === undefined) {
      file = new CachedFile(path, (read): PwfileState => {
        if (!read.ok) {
          if (read.missing) return { missing: true };
          throw new CvmError(ErrorCode.IO, "cannot read the password file");
        }
        try {
          return { missing: false, cdb: Cdb.fromBytes(read.bytes) };
        } catch {
          throw new CvmError(ErrorCode.IO, "the password file is corrupt");
        }
      });
      if (this.#files.size >= this.#limit) {
        this.#files.delete(this.#files.keys().next().value!);
      }
    } else {
      this.#files.delete(path); // re-inserted below: most recent last
    }
    this.#files.set(path, file);
    return file.get();
  }

  /** The crypt hashes of the entries of the files kept, in order. */
  *hashes(): Generator<string> {
    for (const file of this.#files.values()) {
      const state = file.get();
      if (state.missing) continue;
      for (const [, data] of state.cdb.entries()) {
        const stored = decodeEntry(data)?.password;
        if (stored && !stored.startsWith("$0$")) yield byteStringText(stored);
      }
    }
  }
}

/**
 * Checks a request's credentials against an entry's stored password.
 *
 * @param entry The entry.
 * @param request The password, or challenge, response and response type.
 * @param decoy Checks a locked or empty crypt password against a dummy hash,
 *   so that it takes as long as a real one.
 * @returns True when they match.
 * @throws {CvmError} NOCRED when there is nothing this entry can check.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEntryPassword } from "./vmailmgr.ts";
 * import { decodeEntry } from "./vmailmgr_entry.ts";
 * const entry = decodeEntry(new TextEncoder().encode(":$0$pw:./bob"))!;
 * const enc = new TextEncoder();
 * assert.equal(await checkEntryPassword(entry, { password: enc.encode("pw") }), true);
 * assert.equal(await checkEntryPassword(entry, { password: enc.encode("no") }), false);
 * ```
 */
export async function checkEntryPassword(
  entry: VmailmgrEntry,
  request: Pick<
    ModuleRequest,
    "password" | "challenge" | "response" | "responseType"
  >,
  decoy?: CryptDecoy,
): Promise<boolean> {
  const stored = entry.password;
  const plain = stored.startsWith("$0$") ? stored.slice(3) : undefined;
  if (request.password !== undefined) {
    if (plain !== undefined) {
      return bytesEqual(request.password, byteStringBytes(plain));
    }
    const hash = byteStringText(stored);
    return await (decoy
      ? decoy.verify(request.password, hash)
      : verifyCrypt(request.password, hash));
  }
  if (plain === undefined) {
    throw new CvmError(ErrorCode.NOCRED, "no password credential");
  }
  return await checkPassword(
    "plain",
    request,
    byteStringText(plain),
  );
}

/**
 * Rewrites a passwd.cdb with the entries under `key` carrying `$0$` and
 * the plain-text password, every other record unchanged and in order.
 *
 * @param path The passwd.cdb file.
 * @param key The entry's key.
 * @param password The plain-text password.
 * @throws {CvmError} IO when the file cannot be read, decoded or replaced
 *   (the old file then stays as it was).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { autoconvert } from "./vmailmgr.ts";
 * import { decodeEntry, encodeEntry } from "./vmailmgr_entry.ts";
 * import { Cdb, makeCdb } from "../cdb/mod.ts";
 * const enc = new TextEncoder();
 * const old = decodeEntry(enc.encode(":$1$salt$hash:./bob"))!;
 * const path = Deno.makeTempFileSync({ suffix: ".cdb" });
 * Deno.writeFileSync(path, makeCdb([["bob", encodeEntry(old)]]));
 * await autoconvert(path, "bob", enc.encode("pw"));
 * const now = decodeEntry(Cdb.fromBytes(Deno.readFileSync(path)).get("bob")!);
 * Deno.removeSync(path);
 * assert.equal(now?.password, "$0$pw");
 * ```
 */
export async function autoconvert(
  path: string,
  key: string,
  password: Uint8Array,
): Promise<void> {
  try {
    const cdb = Cdb.fromBytes(Deno.readFileSync(path));
    const wanted = toBytes(key);
    const records: Array<[Uint8Array, Uint8Array]> = [];
    for (const [k, data] of cdb.entries()) {
      if (k.length === wanted.length && k.every((b, i) => b === wanted[i])) {
        const entry = decodeEntry(data);
        if (entry === undefined) throw new Error("malformed entry");
        entry.password = `$0$${byteString(password)}`;
        records.push([k, encodeEntry(entry)]);
      } else {
        records.push([k, data]);
      }
    }
    await writeCdbAtomic(path, records);
  } catch (e) {
    throw new CvmError(
      ErrorCode.IO,
      `cannot convert the password: ${e instanceof Error ? e.message : e}`,
    );
  }
}

/**
 * Makes the cvm-vmailmgr backend from the environment.
 *
 * @param env `VMAILMGR_PWFILE`, `VMAILMGR_DEFAULT`, `VMAILMGR_LOCK_DISABLED`,
 *   `VMAILMGR_AUTOCONVERT`, `CVM_LOOKUP_SECRET` and the qmail settings.
 * @param context Server modes keep the recently used password files.
 * @returns The backend.
 * @example
 * ```ts
 * import { createVmailmgrBackend } from "./vmailmgr.ts";
 * createVmailmgrBackend({ QMAIL_ROOT: "/var/qmail" }, { persistent: false });
 * ```
 */
export function createVmailmgrBackend(
  env: Record<string, string | undefined>,
  context: BackendContext,
): Backend<VmailmgrAccount> {
  const qmailOptions = qmailOptionsFromEnv(env);
  let resolver = new QmailResolver(qmailOptions);
  const pwfile = env.VMAILMGR_PWFILE ?? "passwd.cdb";
  const catchAll = env.VMAILMGR_DEFAULT ?? "+";
  const lockDisabled = env.VMAILMGR_LOCK_DISABLED !== undefined;
  const convert = env.VMAILMGR_AUTOCONVERT !== undefined;
  const lookupMode = env.CVM_LOOKUP_SECRET !== undefined;
  const cacheSize = context.persistent ? 64 : 1;
  let cache = new PwfileCache(cacheSize);
  // The dummy hash follows the password files' own: the first one kept.
  const decoy = new CryptDecoy(() => firstHash(cache.hashes()));

  const find = (request: ModuleRequest): VmailmgrAccount => {
    const address = resolver.resolve(request.account, request.domain, 1);
    if (address.rest === "") throw new Rejection(1, "no virtual user part");
    // The reference changes into the home directory first.
    let home: Deno.FileInfo;
    try {
      home = Deno.statSync(address.home);
    } catch {
      throw new CvmError(ErrorCode.IO, "cannot enter the domain's home");
    }
    if (!home.isDirectory) {
      throw new CvmError(ErrorCode.IO, "the domain's home is not a directory");
    }
    if (pwfile === "") throw new Rejection(1, "no password file");
    const path = pwfile.startsWith("/") ? pwfile : `${address.home}/${pwfile}`;
    const state = cache.get(path);
    if (state.missing) throw new Rejection(1, "no password file");
    const name = address.rest;
    let key = name;
    // Keys are bytes: the name as sent (toBytes undoes toExactText).
    let data = state.cdb.get(toBytes(key));
    if (data === undefined && lookupMode) {
      key = catchAll;
      data = state.cdb.get(toBytes(key));
    }
    if (data === undefined) throw new Rejection(0, "no such virtual user");
    const entry = decodeEntry(data);
    if (entry === undefined) {
      throw new CvmError(ErrorCode.IO, "malformed password entry");
    }
    return { address, name, key, entry, path };
  };

  return {
    // deno-lint-ignore require-await
    async lookup(request) {
      return find(request); // async: a throw becomes the rejection
    },
    async decoy(request) {
      await decoy.reject(request.password);
    },
    async authenticate(account, request) {
      if (!(await checkEntryPassword(account.entry, request, decoy))) {
        throw new Rejection(0, "wrong password");
      }
      if (lockDisabled && !isMailboxEnabled(account.entry)) {
        throw new Rejection(0, "mailbox disabled");
      }
      if (
        convert && request.password !== undefined &&
        !account.entry.password.startsWith("$0$")
      ) {
        await autoconvert(account.path, account.key, request.password);
      }
      return true;
    },
    results(account): Facts {
      const { address } = account;
      const directory = mergePath(
        address.home,
        byteStringText(account.entry.mailbox),
      );
      return {
        username: account.name,
        userid: 0,
        groupid: 0,
        directory,
        raw: qmailFacts({
          username: account.name,
          uid: address.uid,
          gid: address.gid,
          directory,
          sysUsername: address.user,
          sysDirectory: address.home,
          domain: address.domain,
          mailbox: directory,
        }),
      };
    },
    reload() {
      // Fresh caches: the next request reads every file again.
      resolver = new QmailResolver(qmailOptions);
      cache = new PwfileCache(cacheSize);
      return Promise.resolve();
    },
  };
}
