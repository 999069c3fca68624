/**
 * cvm-pwfile under `CVM_PWFILE_PWCMP=scheme`: Dovecot's passwd-file
 * layout, line by line, and a real passwd-file made with `doveadm pw`
 * served by our cvm-pwfile (command mode and a local server), driven by
 * the reference's cvm-testclient; each account is accepted exactly when
 * `doveadm pw -t` accepts its password.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import {
  dovecotLineParser,
  mailboxOfLocation,
  parseDovecotPasswdLine,
} from "../../modules/passwords/mod.ts";
import {
  dist,
  ensureDist,
  have,
  REF,
  run,
  startServer,
  tempDir,
} from "../_helpers.ts";

Deno.test("parseDovecotPasswdLine(): fields, extra fields with ':' in values, the old layout, libpam-pwdfile's [NN]", () => {
  for (const skipped of ["", "# a comment", ":{PLAIN}x:1:1::/h:"]) {
    assertEquals(parseDovecotPasswdLine(skipped), undefined, skipped);
  }
  const full = parseDovecotPasswdLine(
    "bob:{SHA512-CRYPT}$6$s$h:1000:100:Bob,,:/home/bob:/bin/sh:userdb_mail=maildir:~/Maildir:LAYOUT=fs  quota_rule=*:storage=1G nopassword",
  )!;
  assertEquals(
    [
      full.name,
      full.password,
      full.uid,
      full.gid,
      full.gecos,
      full.home,
      full.shell,
    ],
    [
      "bob",
      "{SHA512-CRYPT}$6$s$h",
      "1000",
      "100",
      "Bob,,",
      "/home/bob",
      "/bin/sh",
    ],
  );
  assertEquals([...full.extra], [
    ["userdb_mail", "maildir:~/Maildir:LAYOUT=fs"],
    ["quota_rule", "*:storage=1G"],
    ["nopassword", ""],
  ]);
  // Fields left out at the end are empty.
  const short = parseDovecotPasswdLine("carol:{PLAIN}pw")!;
  assertEquals([short.password, short.uid, short.home, short.extra.size], [
    "{PLAIN}pw",
    "",
    "",
    0,
  ]);
  // The old layout: an empty eighth field, then the mail location.
  const old = parseDovecotPasswdLine(
    "dave:{PLAIN}pw:1:1::/home/dave:::maildir:/var/mail/dave",
  )!;
  assertEquals([...old.extra], [["userdb_mail", "maildir:/var/mail/dave"]]);
  assertEquals(
    parseDovecotPasswdLine("erin:abcdefghijklm[13]")?.password,
    "{CRYPT}abcdefghijklm",
  );
  assertEquals(
    parseDovecotPasswdLine("erin:5f4dcc3b5aa765d61d8327deb882cf99[34]")
      ?.password,
    "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99",
  );
});

Deno.test("mailboxOfLocation(): maildir paths and mbox INBOX, ~ and %u/%n/%d/%h expanded, anything else none", () => {
  assertEquals(
    mailboxOfLocation("maildir:~/Maildir", "bob", "/home/bob/"),
    "/home/bob/Maildir",
  );
  assertEquals(mailboxOfLocation("maildir:~", "bob", "/home/bob"), "/home/bob");
  assertEquals(
    mailboxOfLocation(
      "maildir:/var/vmail/%d/%n/Maildir:LAYOUT=fs",
      "bob@example.com",
      "",
    ),
    "/var/vmail/example.com/bob/Maildir",
  );
  assertEquals(
    mailboxOfLocation("maildir:%h/mail", "bob", "/home/bob"),
    "/home/bob/mail",
  );
  assertEquals(
    mailboxOfLocation("mbox:~/mail:INBOX=/var/mail/%u", "bob", "/h"),
    "/var/mail/bob",
  );
  assertEquals(mailboxOfLocation("maildir:100%%", "bob", ""), "100%");
  for (
    const [location, home] of [
      ["maildir:~/Maildir", ""],
      ["maildir:%h/x", ""],
      ["maildir:/var/%Lu", "/h"],
      ["sdbox:~/mail", "/h"],
      ["mbox:~/mail", "/h"],
    ]
  ) {
    assertEquals(mailboxOfLocation(location, "bob", home), undefined, location);
  }
});

Deno.test("dovecotLineParser(): default ids, userdb_* extra fields, refusing fields, ids by name", () => {
  const parse = dovecotLineParser({ uid: 5000, gid: 5001 });
  const bob = parse(
    "bob:{PLAIN}pw:::Bob:/home/bob::userdb_mail=maildir:~/Maildir",
  )!;
  assertEquals(
    [bob.uid, bob.gid, bob.directory, bob.mailbox, bob.refused, bob.problem],
    [5000, 5001, "/home/bob", "/home/bob/Maildir", undefined, undefined],
  );
  const extra = parse(
    "eve:{PLAIN}pw:::::: userdb_uid=7 userdb_gid=8 userdb_home=/srv/eve",
  )!;
  assertEquals([extra.uid, extra.gid, extra.directory], [7, 8, "/srv/eve"]);
  assertEquals(parse("root:{PLAIN}pw:root:root::/root:")?.uid, 0);
  assertEquals(parse("x:{PLAIN}pw:no-such-user-here:1::/:"), undefined);
  assertEquals(parse("x:{PLAIN}pw:-1:1::/:"), undefined);
  for (
    const field of [
      "nologin",
      "allow_nets=10.0.0.0/8",
      "noauthenticate",
      "allow_real_nets=::1",
    ]
  ) {
    assertEquals(
      parse(`x:{PLAIN}pw:1:1::/::${field}`)?.refused,
      field.split("=")[0],
    );
  }
  const noDefault = dovecotLineParser({})("y:{PLAIN}pw:::::")!;
  assert(
    /\$CVM_PWFILE_UID is not set/.test(noDefault.problem ?? ""),
    String(noDefault.problem),
  );
});

/** One account of the file: its line's password and what is typed. */
interface Account {
  name: string;
  scheme: string;
  password: string;
}

const ACCOUNTS: Account[] = [
  { name: "alice", scheme: "SHA512-CRYPT", password: "alice pw" },
  { name: "bob", scheme: "ARGON2ID", password: "bob's pässword" },
  { name: "carol", scheme: "BLF-CRYPT", password: "carol:pw" },
  { name: "dave", scheme: "SSHA512", password: "dave pw" },
  { name: "erin", scheme: "CRAM-MD5", password: "erin pw" },
  { name: "frank", scheme: "PBKDF2", password: "frank pw" },
  { name: "gina", scheme: "SCRAM-SHA-256", password: "gina pw" },
  { name: "hal", scheme: "PLAIN", password: "hal pw" },
  { name: "ivy", scheme: "MD5-CRYPT", password: "ivy pw" },
  { name: "jan", scheme: "SHA256.HEX", password: "jan pw" },
];

/** The reference testclient's output for an accepted account. */
function facts(
  name: string,
  uid: number,
  gid: number,
  realname: string,
  home: string,
  shell: string,
  mailbox: string,
): string {
  return [
    `user name:        ${name}`,
    `user ID:          ${uid}`,
    `group ID:         ${gid}`,
    `real name:        ${realname}`,
    `directory:        ${home}`,
    `shell:            ${shell}`,
    "group name:       (null)",
    "system user name: (null)",
    "system directory: (null)",
    "domain:           (null)",
    `mailbox path:     ${mailbox}`,
    "",
  ].join("\n");
}

Deno.test({
  name:
    "a passwd-file made with doveadm pw, served by cvm-pwfile (command and local), accepts exactly what doveadm accepts",
  ignore: !have("/usr/bin/doveadm") || !have(`${REF}/cvm-testclient`),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureDist();
    const dir = tempDir();
    const servers: Awaited<ReturnType<typeof startServer>>[] = [];
    try {
      const lines = ["# made by doveadm pw", ""];
      const stored = new Map<string, string>();
      for (const [i, { name, scheme, password }] of ACCOUNTS.entries()) {
        const made = await run("/usr/bin/doveadm", [
          "pw",
          "-s",
          scheme,
          "-p",
          password,
        ]);
        assertEquals(made.code, 0, made.stderr);
        stored.set(name, made.stdout.trim());
        // Every other account leaves its ids to the module's defaults.
        const ids = i % 2 === 0 ? "2000:2001" : ":";
        lines.push(
          `${name}:${made.stdout.trim()}:${ids}:${name} User,,:/home/${name}::userdb_mail=maildir:~/Maildir quota_rule=*:storage=1G`,
        );
      }
      lines.push(
        "locked:{SHA512-CRYPT}!$6$saltsalt$x:2000:2001::/home/locked::",
        `barred:${
          stored.get("hal")
        }:2000:2001::/home/barred::nologin reason=moved`,
        "otp:{OTP}md5 99 seed 0123456789abcdef:2000:2001::/home/otp::",
      );
      const path = `${dir.path}/passwd`;
      Deno.writeTextFileSync(path, lines.join("\n") + "\n");
      const env = {
        CVM_PWFILE_PATH: path,
        CVM_PWFILE_PWCMP: "scheme",
        CVM_PWFILE_UID: "5000",
        CVM_PWFILE_GID: "5001",
      };
      const socket = `${dir.path}/pwfile.sock`;
      servers.push(
        await startServer(`${dist}/cvm-pwfile`, [`cvm-local:${socket}`], env),
      );
      const modules = [`cvm-command:${dist}/cvm-pwfile`, `cvm-local:${socket}`];
      const testclient = (module: string, account: string, password: string) =>
        run(`${REF}/cvm-testclient`, [module, account, "", password], { env });

      for (const module of modules) {
        await t.step(
          `${module.split(":")[0]}: each account, right and wrong`,
          async () => {
            for (const [i, { name, password }] of ACCOUNTS.entries()) {
              const dovecot = await run("/usr/bin/doveadm", [
                "pw",
                "-t",
                stored.get(name)!,
                "-p",
                password,
              ]);
              assertEquals(dovecot.code, 0, `doveadm refuses ${name}`);
              const [uid, gid] = i % 2 === 0 ? [2000, 2001] : [5000, 5001];
              const right = await testclient(module, name, password);
              assertEquals(
                [right.code, right.stdout],
                [
                  0,
                  facts(
                    name,
                    uid,
                    gid,
                    `${name} User`,
                    `/home/${name}`,
                    "",
                    `/home/${name}/Maildir`,
                  ),
                ],
                `${name}: ${right.stderr}`,
              );
              const wrong = await testclient(module, name, password + "x");
              assertEquals(wrong.code, 100, name);
            }
          },
        );
        await t.step(
          `${
            module.split(":")[0]
          }: locked, barred (nologin), unknown scheme (CONFIG), unknown account`,
          async () => {
            assertEquals((await testclient(module, "locked", "x")).code, 100);
            assertEquals(
              (await testclient(module, "barred", "hal pw")).code,
              100,
            );
            assertEquals((await testclient(module, "otp", "x")).code, 6);
            assertEquals((await testclient(module, "nobody", "x")).code, 100);
          },
        );
      }
      const stderr = servers[0].stderr();
      for (const { password } of ACCOUNTS) {
        assert(!stderr.includes(password), "a password on stderr");
      }
    } finally {
      for (const s of servers) await s.stop();
      dir.cleanup();
    }
  },
});

Deno.test({
  name:
    "cvm-pwfile scheme mode: a line without ids and no default answers CONFIG after the right password, 100 with a wrong one",
  ignore: !have(`${REF}/cvm-testclient`),
  async fn() {
    await ensureDist();
    const dir = tempDir();
    try {
      const path = `${dir.path}/passwd`;
      Deno.writeTextFileSync(path, "bob:{PLAIN}pw:::Bob:/home/bob:\n");
      const env = { CVM_PWFILE_PATH: path, CVM_PWFILE_PWCMP: "scheme" };
      const module = `cvm-command:${dist}/cvm-pwfile`;
      const right = await run(`${REF}/cvm-testclient`, [
        module,
        "bob",
        "",
        "pw",
      ], { env });
      assertEquals(right.code, 6);
      const wrong = await run(`${REF}/cvm-testclient`, [
        module,
        "bob",
        "",
        "px",
      ], { env });
      assertEquals(wrong.code, 100);
      const bad = await run(
        `${REF}/cvm-testclient`,
        [module, "bob", "", "pw"],
        {
          env: { ...env, CVM_PWFILE_UID: "x1" },
        },
      );
      assertEquals(bad.code, 6);
    } finally {
      dir.cleanup();
    }
  },
});
