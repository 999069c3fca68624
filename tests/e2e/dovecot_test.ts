/**
 * End to end, Dovecot 2.3: a private Dovecot (its config, base_dir, state
 * and log in a temporary directory, IMAP on a loopback port) with the
 * example `examples/dovecot/cvm-checkpassword.conf`: passdb checkpassword
 * running our cvm-checkpassword against our cvm-pwfile's socket, userdb
 * prefetch. IMAP LOGIN succeeds with the right password (and the user's
 * Maildir is there, through the uid/gid/home fields handed back), fails with
 * Dovecot's own "Authentication failed" (not a temporary failure) with the
 * wrong one. A userdb checkpassword lookup (`doveadm user`, AUTHORIZED=1)
 * finds the account through a module in lookup mode, and reports an
 * unknown one as unknown.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
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

Deno.test("e2e dovecot: IMAP LOGIN with passdb checkpassword = our cvm-checkpassword, userdb prefetch", async (t) => {
  const programs = await dovecotPrograms("dovecot");
  if (!programs) return;

  const tmp = tempDir();
  Deno.chmodSync(tmp.path, 0o755); // the dovecot and mail users pass through
  const socket = `${tmp.path}/cvm.sock`;
  const lookupSocket = `${tmp.path}/cvm-lookup.sock`;
  const home = `${tmp.path}/home/bob`;
  const conf = `${tmp.path}/dovecot.conf`;
  const log = `${tmp.path}/dovecot.log`;
  const modules: Server[] = [];
  let dovecot: ReturnType<typeof spawnGroup> | undefined;
  const clients: LineClient[] = [];
  try {
    for (const d of ["new", "cur", "tmp"]) {
      Deno.mkdirSync(`${home}/Maildir/${d}`, { recursive: true });
    }
    Deno.writeTextFileSync(
      `${home}/Maildir/new/1000000000.1.test`,
      "From: alice@example.org\nSubject: hello through cvm\n\nHi Bob.\n",
    );
    for (const path of [`${tmp.path}/home`, home, `${home}/Maildir`]) {
      Deno.chownSync(path, MAIL_UID, MAIL_GID);
    }
    for (const d of ["new", "cur", "tmp"]) {
      Deno.chownSync(`${home}/Maildir/${d}`, MAIL_UID, MAIL_GID);
    }
    Deno.chownSync(`${home}/Maildir/new/1000000000.1.test`, MAIL_UID, MAIL_GID);
    const pwfile = `${tmp.path}/passwd`;
    Deno.writeTextFileSync(
      pwfile,
      `bob:secret:${MAIL_UID}:${MAIL_GID}:Bob:${home}:/bin/sh\n`,
    );
    Deno.chmodSync(pwfile, 0o644);
    modules.push(
      await within(
        "our cvm-pwfile to start",
        startServer(`${dist}/cvm-pwfile`, [`cvm-local:${socket}`], {
          CVM_PWFILE_PATH: pwfile,
        }),
      ),
    );
    // For userdb lookups (no password): the same accounts in lookup mode.
    modules.push(
      await within(
        "our cvm-pwfile (lookup mode) to start",
        startServer(`${dist}/cvm-pwfile`, [`cvm-local:${lookupSocket}`], {
          CVM_PWFILE_PATH: pwfile,
          CVM_LOOKUP_SECRET: "",
        }),
      ),
    );
    const [module, lookupModule] = modules;

    const port = freeTcpPort();
    const snippet = readTextOrEmpty(
      `${root}/examples/dovecot/cvm-checkpassword.conf`,
    )
      .replaceAll("/usr/local/bin/", `${dist}/`)
      .replaceAll("/run/cvm-unix.sock", socket);
    expect(
      snippet.includes(`${dist}/cvm-checkpassword`),
      "the example snippet",
    );
    Deno.mkdirSync(`${tmp.path}/run`);
    Deno.mkdirSync(`${tmp.path}/state`);
    Deno.writeTextFileSync(
      conf,
      [
        `base_dir = ${tmp.path}/run`,
        `state_dir = ${tmp.path}/state`,
        `log_path = ${log}`,
        `instance_name = cvm-e2e-${port}`,
        "protocols = imap",
        "listen = 127.0.0.1",
        "ssl = no",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        "auth_failure_delay = 0",
        "auth_verbose = yes",
        "auth_debug = yes",
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
        "# After prefetch, for lookups without a login (doveadm user):",
        "userdb {",
        "  driver = checkpassword",
        `  args = ${dist}/cvm-checkpassword cvm-local:${lookupSocket}`,
        "}",
        "",
      ].join("\n"),
    );
    dovecot = spawnGroup(programs.dovecot, ["-F", "-c", conf]);
    const context = () =>
      `dovecot:\n${dovecot!.output()}\nlog:\n${readTextOrEmpty(log)}`;
    await waitForListener(port, dovecot).catch((e) => {
      throw new Error(`${e.message}\n${context()}`);
    });

    await t.step(
      "LOGIN with the right password opens the user's Maildir",
      async () => {
        const c = await LineClient.connect(port);
        clients.push(c);
        expect((await c.readLine()).startsWith("* OK"), "greeting", c);
        await c.send("a1 LOGIN bob secret", "a1 LOGIN bob ******");
        const login = await c.readUntil((l) => l.startsWith("a1 "));
        expect(login.at(-1)!.startsWith("a1 OK"), `LOGIN\n${context()}`, c);
        await within("'+ bob' in the module log", module.waitFor(/^\+ bob$/));
        await c.send("a2 SELECT INBOX");
        const select = await c.readUntil((l) => l.startsWith("a2 "));
        expect(select.at(-1)!.startsWith("a2 OK"), "SELECT", c);
        expect(select.includes("* 1 EXISTS"), "the message is there", c);
        await c.send("a3 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
        const fetch = await c.readUntil((l) => l.startsWith("a3 "));
        expect(fetch.includes("Subject: hello through cvm"), "FETCH", c);
        await c.send("a4 LOGOUT");
        await c.readUntil((l) => l.startsWith("a4 "));
        // Dovecot ran the mail process as the uid/gid handed back.
        const userdb = readTextOrEmpty(log).match(
          /userdb out: USER\t\S+\tbob\t.*/,
        );
        expect(userdb !== null, `a userdb reply for bob\n${context()}`);
        expect(userdb![0].includes(`uid=${MAIL_UID}`), userdb![0]);
        expect(userdb![0].includes(`gid=${MAIL_GID}`), userdb![0]);
        expect(userdb![0].includes(`home=${home}`), userdb![0]);
      },
    );

    await t.step(
      "LOGIN with a wrong password: Authentication failed",
      async () => {
        const c = await LineClient.connect(port);
        clients.push(c);
        expect((await c.readLine()).startsWith("* OK"), "greeting", c);
        await c.send("b1 LOGIN bob wrong", "b1 LOGIN bob *****");
        const reply = (await c.readUntil((l) => l.startsWith("b1 "))).at(-1)!;
        expect(
          reply.startsWith(
            "b1 NO [AUTHENTICATIONFAILED] Authentication failed",
          ),
          `a rejection, not a temporary failure: ${reply}\n${context()}`,
          c,
        );
        await within("'- bob' in the module log", module.waitFor(/^- bob$/));
        await c.send("b2 LOGOUT");
        await c.readUntil((l) => l.startsWith("b2 "));
      },
    );

    await t.step(
      "a userdb lookup (AUTHORIZED=1) hands back the account",
      async () => {
        const found = await run(programs.doveadm, ["-c", conf, "user", "bob"]);
        assertEquals(
          found.code,
          0,
          `${found.stdout}${found.stderr}\n${context()}`,
        );
        const fields = Object.fromEntries(
          found.stdout.trim().split("\n").slice(1).map((l) => l.split("\t")),
        );
        assertEquals(
          [fields.uid, fields.gid, fields.home],
          [String(MAIL_UID), String(MAIL_GID), home],
        );
        await within(
          "'+ bob' in the lookup module's log",
          lookupModule.waitFor(/^\+ bob$/),
        );
        const unknown = await run(programs.doveadm, [
          "-c",
          conf,
          "user",
          "nosuchuser",
        ]);
        // doveadm: 67 (EX_NOUSER) for a user that does not exist.
        assertEquals(unknown.code, 67, `${unknown.stdout}${unknown.stderr}`);
        await within(
          "'- nosuchuser' in the lookup module's log",
          lookupModule.waitFor(/^- nosuchuser$/),
        );
      },
    );
  } finally {
    for (const c of clients) c.close();
    if (dovecot) {
      await run(programs.doveadm, ["-c", conf, "stop"]).catch(() => {});
      await dovecot.stop();
    }
    for (const m of modules) await m.stop();
    tmp.cleanup();
  }
});
