/**
 * End to end, Dovecot 2.3 and a Dovecot passwd-file: the file is made with
 * `doveadm pw` ({ARGON2ID}, {SHA512-CRYPT}, {CRAM-MD5}), in Dovecot's
 * layout with empty ids and a `userdb_mail` extra field; our cvm-pwfile
 * serves it with `CVM_PWFILE_PWCMP=scheme`, and a private Dovecot checks
 * IMAP logins through our cvm-checkpassword (passdb checkpassword, userdb
 * prefetch). Each account logs in with its password and lands in the
 * mailbox its `userdb_mail` names (not Dovecot's own mail_location); a
 * wrong password is "Authentication failed".
 */

import {
  dist,
  expect,
  freeTcpPort,
  LineClient,
  root,
  type Server,
  spawnGroup,
  startServer,
  waitForListener,
  within,
} from "./_helpers.ts";
import { readTextOrEmpty, run, tempDir } from "../_helpers.ts";
import { dovecotPrograms, MAIL_GID, MAIL_UID } from "./_dovecot.ts";

/** The accounts: name, scheme, password. */
const ACCOUNTS = [
  ["bob", "ARGON2ID", "bob's pässword"],
  ["carol", "SHA512-CRYPT", "carol pw"],
  ["dave", "CRAM-MD5", "dave pw"],
] as const;

Deno.test("e2e dovecot: a passwd-file made with doveadm pw, served by cvm-pwfile in scheme mode, IMAP LOGIN through cvm-checkpassword", async (t) => {
  const programs = await dovecotPrograms("dovecot passwd-file");
  if (!programs) return;

  const tmp = tempDir();
  Deno.chmodSync(tmp.path, 0o755);
  const socket = `${tmp.path}/cvm.sock`;
  const conf = `${tmp.path}/dovecot.conf`;
  const log = `${tmp.path}/dovecot.log`;
  let module: Server | undefined;
  let dovecot: ReturnType<typeof spawnGroup> | undefined;
  const clients: LineClient[] = [];
  try {
    const lines = ["# a Dovecot passwd-file, made with doveadm pw"];
    for (const [name, scheme, password] of ACCOUNTS) {
      const home = `${tmp.path}/home/${name}`;
      // Not Dovecot's mail_location (~/Maildir): only userdb_mail finds it.
      const maildir = `${home}/Mail/cvm`;
      for (const d of ["new", "cur", "tmp"]) {
        Deno.mkdirSync(`${maildir}/${d}`, { recursive: true });
      }
      Deno.writeTextFileSync(
        `${maildir}/new/1000000000.1.test`,
        `From: alice@example.org\nSubject: for ${name} through cvm\n\nHi.\n`,
      );
      await run("chown", ["-R", `${MAIL_UID}:${MAIL_GID}`, `${tmp.path}/home`]);
      const made = await run(programs.doveadm, [
        "pw",
        "-s",
        scheme,
        "-p",
        password,
      ]);
      expect(made.code === 0, `doveadm pw -s ${scheme}: ${made.stderr}`);
      lines.push(
        `${name}:${made.stdout.trim()}:::${name}:${home}::userdb_mail=maildir:~/Mail/cvm quota_rule=*:storage=1G`,
      );
    }
    const pwfile = `${tmp.path}/passwd`;
    Deno.writeTextFileSync(pwfile, lines.join("\n") + "\n");
    Deno.chmodSync(pwfile, 0o644);
    module = await within(
      "our cvm-pwfile to start",
      startServer(`${dist}/cvm-pwfile`, [`cvm-local:${socket}`], {
        CVM_PWFILE_PATH: pwfile,
        CVM_PWFILE_PWCMP: "scheme",
        CVM_PWFILE_UID: String(MAIL_UID),
        CVM_PWFILE_GID: String(MAIL_GID),
      }),
    );

    const port = freeTcpPort();
    const snippet = readTextOrEmpty(
      `${root}/examples/dovecot/cvm-checkpassword.conf`,
    )
      .replaceAll("/usr/local/bin/", `${dist}/`)
      .replaceAll("/run/cvm-unix.sock", socket);
    Deno.mkdirSync(`${tmp.path}/run`);
    Deno.mkdirSync(`${tmp.path}/state`);
    Deno.writeTextFileSync(
      conf,
      [
        `base_dir = ${tmp.path}/run`,
        `state_dir = ${tmp.path}/state`,
        `log_path = ${log}`,
        `instance_name = cvm-e2e-pwfile-${port}`,
        "protocols = imap",
        "listen = 127.0.0.1",
        "ssl = no",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        "auth_failure_delay = 0",
        "auth_verbose = yes",
        "mail_location = maildir:~/Maildir",
        "service imap-login {",
        "  inet_listener imap {",
        "    address = 127.0.0.1",
        `    port = ${port}`,
        "  }",
        "  inet_listener imaps {",
        "    port = 0",
        "  }",
        "}",
        snippet,
        "",
      ].join("\n"),
    );
    dovecot = spawnGroup(programs.dovecot, ["-F", "-c", conf]);
    const context = () =>
      `dovecot:\n${dovecot!.output()}\nlog:\n${readTextOrEmpty(log)}`;
    await waitForListener(port, dovecot).catch((e) => {
      throw new Error(`${e.message}\n${context()}`);
    });

    for (const [name, scheme, password] of ACCOUNTS) {
      await t.step(
        `${name} ({${scheme}}): LOGIN opens the mailbox userdb_mail names`,
        async () => {
          const c = await LineClient.connect(port);
          clients.push(c);
          expect((await c.readLine()).startsWith("* OK"), "greeting", c);
          await c.send(
            `a1 LOGIN ${name} "${password}"`,
            `a1 LOGIN ${name} ******`,
          );
          const login = await c.readUntil((l) => l.startsWith("a1 "));
          expect(login.at(-1)!.startsWith("a1 OK"), `LOGIN\n${context()}`, c);
          await within(
            `'+ ${name}' in the module log`,
            module!.waitFor(new RegExp(`^\\+ ${name}$`)),
          );
          await c.send("a2 SELECT INBOX");
          const select = await c.readUntil((l) => l.startsWith("a2 "));
          expect(
            select.includes("* 1 EXISTS"),
            `the message is there\n${select.join("\n")}`,
            c,
          );
          await c.send("a3 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
          const fetch = await c.readUntil((l) => l.startsWith("a3 "));
          expect(
            fetch.includes(`Subject: for ${name} through cvm`),
            "FETCH",
            c,
          );
          await c.send("a4 LOGOUT");
          await c.readUntil((l) => l.startsWith("a4 "));
        },
      );
    }

    await t.step("a wrong password: Authentication failed", async () => {
      const c = await LineClient.connect(port);
      clients.push(c);
      expect((await c.readLine()).startsWith("* OK"), "greeting", c);
      await c.send("b1 LOGIN bob wrong", "b1 LOGIN bob *****");
      const reply = (await c.readUntil((l) => l.startsWith("b1 "))).at(-1)!;
      expect(
        reply.startsWith("b1 NO [AUTHENTICATIONFAILED] Authentication failed"),
        `a rejection, not a temporary failure: ${reply}\n${context()}`,
        c,
      );
      await within("'- bob' in the module log", module!.waitFor(/^- bob$/));
      await c.send("b2 LOGOUT");
      await c.readUntil((l) => l.startsWith("b2 "));
    });
  } finally {
    for (const c of clients) c.close();
    if (dovecot) {
      await run(programs.doveadm, ["-c", conf, "stop"]).catch(() => {});
      await dovecot.stop();
    }
    await module?.stop();
    tmp.cleanup();
  }
});
