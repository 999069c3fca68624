/**
 * cvm-vchkpw: vpopmail's virtual users, read from vpopmail's own files
 * (no libvpopmail). The domain comes from qmail's `users/assign`: its
 * `+domain-:user:uid:gid:dir:-::` line names the system user that owns
 * the domain and the domain's directory. That directory holds
 * `vpasswd.cdb` (key: the user; value: the rest of the vpasswd line) or
 * else `vpasswd`, whose lines are
 * `user:password:uid:gid:gecos:dir:quota[:clear-text password]`.
 *
 * - A domain not in users/assign, or without a password file:
 *   out-of-scope 1. An unknown user or a wrong password: rejected with
 *   out-of-scope 0.
 * - The password is checked with crypt(3); a clear-text password, when the
 *   entry has one, also answers APOP and CRAM-MD5.
 * - Without a domain, the host of `control/envnoathost` (else `control/me`).
 * - Facts: the user, the domain's uid and gid, gecos as real name, the
 *   user's directory, its `Maildir` as mailbox, the domain's system user
 *   and directory.
 *
 * @module
 */

import {
  asciiLower,
  CvmError,
  ErrorCode,
  type Facts,
  toBytes,
  toExactText,
} from "../../protocol/mod.ts";
import { QmailControl } from "./control.ts";
import { CachedFile, type FileRead } from "../file_cache/mod.ts";
import { qmailFacts } from "./lookup.ts";
import { parseUnsignedLong } from "./users.ts";
import { type Backend, type ModuleRequest, Rejection } from "../runtime/mod.ts";
import { Cdb } from "../cdb/mod.ts";
import { CryptDecoy, firstHash } from "../passwords/mod.ts";
import { checkPassword } from "../passwords/mod.ts";
import type { BackendContext } from "../runtime/mod.ts";

/** A domain of users/assign. */
export interface VpopmailDomain {
  /** The domain (lower case). */
  domain: string;
  /** The system user owning it. */
  user: string;
  /** Its uid, decimal. */
  uid: string;
  /** Its gid, decimal. */
  gid: string;
  /** The domain's directory. */
  dir: string;
}

/** One vpopmail user. */
export interface VpopmailUser {
  /** The user name. */
  name: string;
  /** The crypt(3) hash. */
  password: string;
  /** vpopmail's uid field (flags), as written. */
  uidField: string;
  /** vpopmail's gid field (flags such as NO_POP), as written. */
  gidField: string;
  /** The comment (real name). */
  gecos: string;
  /** The user's directory. */
  dir: string;
  /** The quota field. */
  quota: string;
  /** The clear-text password, "" when none. */
  clear: string;
}

/**
 * Reads the `+domain-` lines of users/assign into a map by domain.
 *
 * @param text The file's contents.
 * @returns Lower-cased domain → its line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAssign } from "./vchkpw.ts";
 * const assign = parseAssign("+example.com-:vpopmail:89:89:/home/vpopmail/domains/example.com:-::\n.\n");
 * assert.equal(assign.get("example.com")?.dir, "/home/vpopmail/domains/example.com");
 * ```
 */
export function parseAssign(text: string): Map<string, VpopmailDomain> {
  const out = new Map<string, VpopmailDomain>();
  for (const line of text.split("\n")) {
    if (line === ".") break;
    if (!line.startsWith("+")) continue;
    const fields = line.slice(1).split(":");
    if (fields.length < 5 || !fields[0].endsWith("-")) continue;
    const [loc, user, uid, gid, dir] = fields;
    const domain = asciiLower(loc.slice(0, -1));
    if (domain === "" || out.has(domain)) continue;
    const uidText = parseUnsignedLong(uid);
    const gidText = parseUnsignedLong(gid);
    if (uidText === undefined || gidText === undefined) continue;
    out.set(domain, { domain, user, uid: uidText, gid: gidText, dir });
  }
  return out;
}

/**
 * Parses the part of a vpasswd line after the user name (which is what
 * vpasswd.cdb stores): `password:uid:gid:gecos:dir:quota[:clear]`. Missing
 * trailing fields are empty, as vpopmail reads them.
 *
 * @param name The user name.
 * @param rest The rest of the line.
 * @returns The user.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVpasswdRest } from "./vchkpw.ts";
 * assert.equal(parseVpasswdRest("bob", "xx:1:0:Bob:/d/bob:NOQUOTA:pw").clear, "pw");
 * ```
 */
export function parseVpasswdRest(name: string, rest: string): VpopmailUser {
  const nul = rest.indexOf("\0");
  const fields = (nul < 0 ? rest : rest.slice(0, nul)).split(":");
  const field = (i: number) => fields[i] ?? "";
  return {
    name,
    password: field(0),
    uidField: field(1),
    gidField: field(2),
    gecos: field(3),
    dir: field(4),
    quota: field(5),
    // The clear-text password is the rest of the line, colons included.
    clear: fields.slice(6).join(":"),
  };
}

/**
 * Finds a user in the text of a vpasswd file.
 *
 * @param text The file's contents.
 * @param name The lower-cased user name.
 * @returns The user, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findVpasswd } from "./vchkpw.ts";
 * assert.equal(findVpasswd("bob:xx:1:0:Bob:/d/bob:NOQUOTA\n", "bob")?.dir, "/d/bob");
 * ```
 */
export function findVpasswd(
  text: string,
  name: string,
): VpopmailUser | undefined {
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.slice(0, colon) !== name) continue;
    return parseVpasswdRest(name, line.slice(colon + 1));
  }
  return undefined;
}

type PasswordFile =
  | { kind: "cdb"; cdb: Cdb }
  | { kind: "text"; text: string }
  | { kind: "missing" };

/** A vpopmail account as found. */
export interface VchkpwAccount {
  /** The domain from users/assign. */
  domain: VpopmailDomain;
  /** The user from the domain's password file. */
  user: VpopmailUser;
}

/**
 * Makes the cvm-vchkpw backend from the environment.
 *
 * @param env `QMAIL_ROOT` (for users/assign and the default host),
 *   `CVM_LOOKUP_SECRET`.
 * @param _context Unused: the files are re-read when they change.
 * @returns The backend.
 * @example
 * ```ts
 * import { createVchkpwBackend } from "./vchkpw.ts";
 * createVchkpwBackend({ QMAIL_ROOT: "/var/qmail" }, { persistent: false });
 * ```
 */
export function createVchkpwBackend(
  env: Record<string, string | undefined>,
  _context: BackendContext,
): Backend<VchkpwAccount> {
  const root = env.QMAIL_ROOT ?? "/var/qmail";
  const makeAssign = () =>
    new CachedFile(`${root}/users/assign`, (read) => {
      if (read.ok) return parseAssign(toExactText(read.bytes));
      if (read.missing) return new Map<string, VpopmailDomain>();
      throw new CvmError(ErrorCode.IO, "cannot read users/assign");
    });
  let control = new QmailControl(root);
  let assign = makeAssign();
  const files = new Map<string, () => PasswordFile>();
  const passwordFile = (dir: string): PasswordFile => {
    let read = files.get(dir);
    if (read === undefined) {
      const cdbFile = new CachedFile(`${dir}/vpasswd.cdb`, (r: FileRead) => {
        if (!r.ok) {
          if (r.missing) return undefined;
          throw new CvmError(ErrorCode.IO, "cannot read vpasswd.cdb");
        }
        try {
          return Cdb.fromBytes(r.bytes);
        } catch {
          throw new CvmError(ErrorCode.IO, "vpasswd.cdb is corrupt");
        }
      });
      const textFile = new CachedFile(`${dir}/vpasswd`, (r: FileRead) => {
        if (r.ok) return toExactText(r.bytes);
        if (r.missing) return undefined;
        throw new CvmError(ErrorCode.IO, "cannot read vpasswd");
      });
      read = (): PasswordFile => {
        const cdb = cdbFile.get();
        if (cdb !== undefined) return { kind: "cdb", cdb };
        const text = textFile.get();
        return text === undefined
          ? { kind: "missing" }
          : { kind: "text", text };
      };
      if (files.size >= 64) files.delete(files.keys().next().value!);
      files.set(dir, read);
    }
    return read();
  };

  // The dummy hash follows the password files' own: the first one kept.
  function* hashes(): Generator<string> {
    for (const read of files.values()) {
      const file = read();
      if (file.kind === "cdb") {
        for (const [, data] of file.cdb.entries()) {
          yield parseVpasswdRest("", toExactText(data)).password;
        }
      } else if (file.kind === "text") {
        for (const line of file.text.split("\n")) {
          yield line.split(":")[1] ?? "";
        }
      }
    }
  }
  const decoy = new CryptDecoy(() => firstHash(hashes()));

  const find = (request: ModuleRequest): VchkpwAccount => {
    const host = request.domain === ""
      ? control.envnoathost()
      : asciiLower(request.domain);
    const domain = assign.get().get(host);
    if (domain === undefined) throw new Rejection(1, "not a vpopmail domain");
    const name = asciiLower(request.account);
    const file = passwordFile(domain.dir);
    let user: VpopmailUser | undefined;
    switch (file.kind) {
      case "missing":
        throw new Rejection(1, "no vpasswd file");
      case "cdb": {
        const data = file.cdb.get(toBytes(name));
        user = data === undefined
          ? undefined
          : parseVpasswdRest(name, toExactText(data));
        break;
      }
      case "text":
        user = findVpasswd(file.text, name);
    }
    if (user === undefined) throw new Rejection(0, "no such user");
    return { domain, user };
  };

  return {
    // deno-lint-ignore require-await
    async lookup(request) {
      return find(request); // async: a throw becomes the rejection
    },
    async decoy(request) {
      await decoy.reject(request.password);
    },
    async authenticate({ user }, request) {
      let ok: boolean;
      if (request.password !== undefined) {
        ok = await decoy.verify(request.password, user.password);
      } else if (user.clear !== "") {
        ok = await checkPassword(
          "plain",
          request,
          user.clear,
        );
      } else {
        throw new CvmError(ErrorCode.NOCRED, "no password credential");
      }
      if (!ok) throw new Rejection(0, "wrong password");
      return true;
    },
    results({ domain, user }): Facts {
      const mailbox = `${user.dir}/Maildir`;
      return {
        username: user.name,
        userid: 0,
        groupid: 0,
        directory: user.dir,
        raw: qmailFacts({
          username: user.name,
          uid: domain.uid,
          gid: domain.gid,
          realname: user.gecos,
          directory: user.dir,
          sysUsername: domain.user,
          sysDirectory: domain.dir,
          domain: domain.domain,
          mailbox,
        }),
      };
    },
    reload() {
      // Fresh caches: the next request reads every file again.
      control = new QmailControl(root);
      assign = makeAssign();
      files.clear();
      return Promise.resolve();
    },
  };
}
