/**
 * Empty passwords, sent raw to each module in command mode next to the
 * reference's: an account whose stored password is empty (or a crypt hash
 * that cannot match, `*` or `!…`) never validates, whatever is sent; a
 * password credential of length 0 is no password (NOCRED). Which comes
 * first is the reference's, module by module: cvm-pwfile rejects an empty
 * password field before it looks at the credentials (100, in lookup mode
 * too), the others ask for the credential first (7).
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  CredentialType,
  encodeRequestV2,
  type Tagged,
  toBytes,
} from "../../../protocol/mod.ts";
import { crypt } from "../../../sys/crypt.ts";
import { dist, ensureDist, have, REF, run, tempDir } from "../../_helpers.ts";
import {
  createMyDatabase,
  createPgSchema,
  MY,
  PG,
  QUERY12,
  referenceAvailable,
  serviceAvailable,
} from "../sql/_helpers.ts";
import {
  canRunQmailTests,
  entry,
  QmailFixture,
  writeCdbChecked,
} from "../qmail/_fixture.ts";

const RANDOM = toBytes("RAND");

/** What a password credential is in a request: absent, or these bytes. */
type Sent = string | undefined;

/** The password credentials every account is tried with. */
function sentValues(right: string): Sent[] {
  return [...new Set([undefined, "", "wrong", right, "*", "!abc"])];
}

function label(sent: Sent): string {
  return sent === undefined ? "no password" : JSON.stringify(sent);
}

/** A raw request of either version: account, then the password if sent. */
function request(version: 1 | 2, account: string, sent: Sent): Uint8Array {
  if (version === 1) {
    const password = sent === undefined ? "" : `${sent}\0`;
    return toBytes(`\x01${account}\0\0${password}\0`);
  }
  const credentials: Tagged[] = [
    { type: CredentialType.ACCOUNT, value: toBytes(account) },
  ];
  if (sent !== undefined) {
    credentials.push({ type: CredentialType.PASSWORD, value: toBytes(sent) });
  }
  return encodeRequestV2(RANDOM, credentials);
}

/** A module's answer in command mode: exit status and the reply's bytes. */
interface Raw {
  code: number;
  reply: string;
}

async function ask(
  module: string,
  bytes: Uint8Array,
  env: Record<string, string>,
): Promise<Raw> {
  const out = await run(module, [], {
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: bytes,
  });
  return {
    code: out.code,
    reply: Array.from(out.stdoutBytes, (b) => b.toString(16).padStart(2, "0"))
      .join(""),
  };
}

/**
 * Sends every combination of account, password credential and protocol
 * version to our module and the reference's; returns each that differs.
 */
async function differences(
  name: string,
  env: Record<string, string>,
  accounts: Record<string, string>,
  versions: (1 | 2)[] = [2, 1],
): Promise<string[]> {
  const out: string[] = [];
  for (const [account, right] of Object.entries(accounts)) {
    for (const sent of sentValues(right)) {
      for (const version of versions) {
        const bytes = request(version, account, sent);
        const [ours, theirs] = await Promise.all([
          ask(`${dist}/${name}`, bytes, env),
          ask(`${REF}/${name}`, bytes, env),
        ]);
        if (ours.code !== theirs.code || ours.reply !== theirs.reply) {
          out.push(
            `v${version} ${account} ${
              label(sent)
            }: ours ${ours.code} ${ours.reply}, reference ${theirs.code} ${theirs.reply}`,
          );
        }
      }
    }
  }
  return out;
}

const PWFILE = [
  "empty::1:1::/:",
  "pwfuser:testpass:123:456:Gecos,xyz:/home/ftp:/bin/false",
  "star:*:2:2::/:",
  "bang:!abc:3:3::/:",
  "cryptuser:tpzv1IkcX9.fE:234:567:Crypt:/home/crypt:/bin/true",
  "",
].join("\n");

const PWFILE_ACCOUNTS = {
  empty: "",
  pwfuser: "testpass",
  star: "*",
  bang: "!abc",
  cryptuser: "testpass",
};

Deno.test({
  name:
    "cvm-pwfile: empty stored passwords and empty password credentials answer as the reference's (the issue's table)",
  ignore: !have(`${REF}/cvm-pwfile`),
  async fn() {
    await ensureDist();
    const dir = tempDir();
    try {
      const path = `${dir.path}/passwd`;
      Deno.writeTextFileSync(path, PWFILE);
      const env = { CVM_PWFILE_PATH: path };
      const code = async (account: string, sent: Sent) =>
        (await ask(`${dist}/cvm-pwfile`, request(2, account, sent), env)).code;
      // The table: what the reference answers, and ours now.
      assertEquals(await code("empty", undefined), 100);
      assertEquals(await code("empty", ""), 100);
      assertEquals(await code("pwfuser", ""), 7);
      for (const mode of ["plain", "crypt"]) {
        const modeEnv = { ...env, CVM_PWFILE_PWCMP: mode };
        // Version 1 reaches the same request view: once is enough.
        const versions: (1 | 2)[] = mode === "plain" ? [2, 1] : [2];
        assertEquals(
          await differences("cvm-pwfile", modeEnv, PWFILE_ACCOUNTS, versions),
          [],
          mode,
        );
      }
      // Lookup mode: an empty password field is still no account.
      const lookup = { ...env, CVM_LOOKUP_SECRET: "" };
      for (const account of ["empty", "pwfuser", "star"]) {
        const bytes = request(2, account, undefined);
        assertEquals(
          await ask(`${dist}/cvm-pwfile`, bytes, lookup),
          await ask(`${REF}/cvm-pwfile`, bytes, lookup),
          account,
        );
      }
    } finally {
      dir.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-unix: accounts with an empty, locked (!) or * shadow password answer as the reference's",
  ignore: !have(`${REF}/cvm-unix`) || Deno.uid() !== 0,
  async fn() {
    await ensureDist();
    const users = ["cvmtpwempty", "cvmtpwlock", "cvmtpwstar", "cvmtpwok"];
    const sh = (cmd: string, args: string[], stdin = "") =>
      run(cmd, args, { stdin: toBytes(stdin) });
    try {
      for (const user of users) {
        await sh("userdel", [user]);
        const add = await sh("useradd", ["-M", "-d", "/", user]);
        if (add.code !== 0) throw new Error(`useradd: ${add.stderr}`);
      }
      await sh("chpasswd", [], "cvmtpwok:Secret1\ncvmtpwlock:Secret1\n");
      await sh("passwd", ["-d", "cvmtpwempty"]);
      await sh("usermod", ["-L", "cvmtpwlock"]);
      await sh("usermod", ["-p", "*", "cvmtpwstar"]);
      const shadow = Deno.readTextFileSync("/etc/shadow");
      assertEquals(shadow.includes("\ncvmtpwempty::"), true);
      assertEquals(shadow.includes("\ncvmtpwlock:!$"), true);
      assertEquals(
        await differences("cvm-unix", {}, {
          cvmtpwempty: "",
          cvmtpwlock: "Secret1",
          cvmtpwstar: "*",
          cvmtpwok: "Secret1",
        }),
        [],
      );
    } finally {
      for (const user of users) await sh("userdel", [user]);
    }
  },
});

/** Accounts of the SQL tests: stored password, and the one that would fit. */
async function sqlRows() {
  const hash = (await crypt(toBytes("secret"), "$6$saltsalt$"))!;
  const row = (username: string, password: string | null, userid: string) => ({
    username,
    domain: "",
    password,
    userid,
    groupid: "100",
    directory: `/home/${username}`,
  });
  return [
    row("empty", "", "1001"),
    row("nullpw", null, "1002"),
    row("star", "*", "1003"),
    row("bang", "!abc", "1004"),
    row("plain", "secret", "1005"),
    row("hashed", hash, "1006"),
  ];
}

const SQL_ACCOUNTS = {
  empty: "",
  nullpw: "",
  star: "*",
  bang: "!abc",
  plain: "secret",
  hashed: "secret",
};

for (const dialect of ["pgsql", "mysql"] as const) {
  const name = `cvm-${dialect}`;
  const port = dialect === "pgsql" ? PG.port : MY.port;
  const up = await serviceAvailable(dialect, port) &&
    referenceAvailable(name);
  Deno.test({
    name:
      `${name}: empty and NULL stored passwords and empty password credentials answer as the reference's`,
    ignore: !up,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await ensureDist();
      const rows = await sqlRows();
      const db = dialect === "pgsql"
        ? await createPgSchema(rows)
        : await createMyDatabase(rows);
      try {
        const prefix = `CVM_${dialect.toUpperCase()}`;
        for (const mode of ["plain", "crypt"]) {
          const env = {
            ...db.env,
            [`${prefix}_QUERY`]: QUERY12,
            [`${prefix}_PWCMP`]: mode,
          };
          assertEquals(
            await differences(name, env, SQL_ACCOUNTS, [2]),
            [],
            mode,
          );
        }
      } finally {
        await db.drop();
      }
    },
  });
}

Deno.test({
  name:
    "cvm-vmailmgr: empty ($0$ or blank) and * stored passwords answer as the reference's; CRAM-MD5 cannot open an empty $0$ password",
  ignore: !canRunQmailTests(["cvm-vmailmgr"]),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const v = await fx.addUser(`e${fx.tag}v`);
      fx.control("locals", "localhost\n");
      fx.control("virtualdomains", `virt.test:${v.name}\n`);
      await writeCdbChecked(`${v.home}/passwd.cdb`, [
        ["plainempty", entry({ password: "$0$" })],
        ["blank", entry({ password: "" })],
        ["star", entry({ password: "*" })],
        ["bob", entry({ password: "$0$secret" })],
      ]);
      const accounts = {
        [`${v.name}-plainempty`]: "",
        [`${v.name}-blank`]: "",
        [`${v.name}-star`]: "*",
        [`${v.name}-bob`]: "secret",
      };
      assertEquals(await differences("cvm-vmailmgr", fx.env, accounts), []);
      // Challenge-response is ours alone (the reference answers NOCRED):
      // the HMAC of an empty password is anyone's to compute.
      const challenge = "<1.2@virt.test>";
      const cram = (user: string, password: string) =>
        encodeRequestV2(RANDOM, [
          { type: CredentialType.ACCOUNT, value: toBytes(user) },
          { type: CredentialType.DOMAIN, value: toBytes("virt.test") },
          { type: CredentialType.CHALLENGE, value: toBytes(challenge) },
          {
            type: CredentialType.RESPONSE,
            value: toBytes(
              createHmac("md5", password).update(challenge).digest("hex"),
            ),
          },
          { type: CredentialType.RESPONSE_TYPE, value: toBytes("CRAM-MD5") },
        ]);
      const ours = (bytes: Uint8Array) =>
        ask(`${dist}/cvm-vmailmgr`, bytes, fx.env);
      assertEquals((await ours(cram("bob", "secret"))).code, 0);
      assertEquals((await ours(cram("plainempty", ""))).code, 100);
    } finally {
      await fx.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-vchkpw: an empty stored password never validates, an empty password credential is NOCRED",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureDist();
    const fx = QmailFixture.create();
    try {
      const dom = `${fx.root}/domains/example.test`;
      Deno.mkdirSync(dom, { recursive: true });
      Deno.writeTextFileSync(
        `${fx.root}/users/assign`,
        `+example.test-:vpopmail:89:90:${dom}:-::\n.\n`,
      );
      const hash = (await crypt(toBytes("pw"), "$1$abcdefgh"))!;
      Deno.writeTextFileSync(
        `${dom}/vpasswd`,
        `nopw::1:0:N:${dom}/nopw:NOQUOTA\n` +
          `emptyclear::1:0:E:${dom}/e:NOQUOTA:\n` +
          `bob:${hash}:1:0:B:${dom}/bob:NOQUOTA:pw\n`,
      );
      const code = async (account: string, sent: Sent) => {
        const credentials: Tagged[] = [
          { type: CredentialType.ACCOUNT, value: toBytes(account) },
          { type: CredentialType.DOMAIN, value: toBytes("example.test") },
        ];
        if (sent !== undefined) {
          credentials.push({
            type: CredentialType.PASSWORD,
            value: toBytes(sent),
          });
        }
        const bytes = encodeRequestV2(RANDOM, credentials);
        return (await ask(`${dist}/cvm-vchkpw`, bytes, fx.env)).code;
      };
      for (const account of ["nopw", "emptyclear", "bob"]) {
        assertEquals(await code(account, undefined), 7, account);
        assertEquals(await code(account, ""), 7, account);
        assertEquals(await code(account, "x"), 100, account);
      }
      assertEquals(await code("bob", "pw"), 0);
    } finally {
      await fx.cleanup();
    }
  },
});
