/**
 * End to end, SMTP AUTH: tcpserver on a loopback port runs mailfront's
 * `smtpfront-echo` with the cvm-authenticate plugin and `$CVM_SASL_PLAIN`
 * naming our cvm-pwfile's socket (require-auth: no mail before AUTH;
 * relayclient: an authenticated sender may relay). AUTH PLAIN with a wrong
 * password is refused (a permanent 5xx, and a `-` log line); with the right
 * one the message goes through.
 */

import {
  dist,
  ensureDist,
  expect,
  freeTcpPort,
  LineClient,
  requirePrograms,
  type Server,
  spawnGroup,
  startServer,
  waitForListener,
  within,
} from "./_helpers.ts";
import { tempDir } from "../_helpers.ts";

const plain = (user: string, password: string) =>
  btoa(`\0${user}\0${password}`);

Deno.test("e2e smtp: smtpfront-echo AUTH PLAIN through $CVM_SASL_PLAIN and our cvm-pwfile", async () => {
  const programs = requirePrograms("smtp", ["tcpserver", "smtpfront-echo"]);
  if (!programs) return;
  await ensureDist();
  const tmp = tempDir();
  const socket = `${tmp.path}/cvm.sock`;
  let module: Server | undefined;
  let smtp: ReturnType<typeof spawnGroup> | undefined;
  let c: LineClient | undefined;
  try {
    const pwfile = `${tmp.path}/passwd`;
    Deno.writeTextFileSync(
      pwfile,
      `bob:secret:1000:1000:Bob:${tmp.path}:/bin/sh\n`,
    );
    module = await within(
      "our cvm-pwfile to start",
      startServer(`${dist}/cvm-pwfile`, [`cvm-local:${socket}`], {
        CVM_PWFILE_PATH: pwfile,
      }),
    );
    const port = freeTcpPort();
    smtp = spawnGroup(programs.tcpserver, [
      "-v",
      "-HR",
      "-l",
      "localhost",
      "127.0.0.1",
      String(port),
      programs["smtpfront-echo"],
      "cvm-authenticate",
      "require-auth",
      "relayclient",
      "accept-sender",
    ], {
      env: {
        CVM_SASL_PLAIN: `cvm-local:${socket}`,
        PATH: `${Deno.env.get("PATH")}:/usr/sbin:/usr/bin:/bin`,
      },
    });
    await waitForListener(port, smtp);

    c = await LineClient.connect(port);
    expect((await c.readLine()).startsWith("220 "), "greeting", c);
    await c.send("EHLO client.example");
    const ehlo = await c.readUntil((l) => !l.startsWith("250-"));
    expect(
      ehlo.some((l) => /^250[- ]AUTH .*\bPLAIN\b/.test(l)),
      "AUTH PLAIN offered",
      c,
    );

    const refused = await c.command(
      `AUTH PLAIN ${plain("bob", "wrong")}`,
      "AUTH PLAIN <bob, wrong password>",
    );
    expect(/^5\d\d /.test(refused), "a permanent refusal (5xx)", c);
    await within(
      "'- bob@localhost' in the module log",
      module.waitFor(/^- bob@localhost$/),
    );
    expect(
      (await c.command("MAIL FROM:<bob@example.org>")).startsWith("530"),
      "no mail before authenticating",
      c,
    );

    expect(
      (await c.command(
        `AUTH PLAIN ${plain("bob", "secret")}`,
        "AUTH PLAIN <bob, right password>",
      )).startsWith("235 "),
      "235 for the right password",
      c,
    );
    await within(
      "'+ bob@localhost' in the module log",
      module.waitFor(/^\+ bob@localhost$/),
    );
    expect(
      (await c.command("MAIL FROM:<bob@example.org>")).startsWith("250"),
      "MAIL FROM accepted",
      c,
    );
    expect(
      (await c.command("RCPT TO:<carol@example.net>")).startsWith("250"),
      "RCPT TO relayed for an authenticated sender",
      c,
    );
    expect((await c.command("DATA")).startsWith("354"), "DATA", c);
    await c.send("Subject: sent with SMTP AUTH through cvm");
    await c.send("");
    await c.send("Hello.");
    expect((await c.command(".")).startsWith("250"), "message accepted", c);
    expect((await c.command("QUIT")).startsWith("221"), "QUIT", c);
    expect(
      !module.log.some((l) => /secret|wrong/.test(l)),
      "a password in the log",
    );
  } finally {
    c?.close();
    await smtp?.stop();
    await module?.stop();
    tmp.cleanup();
  }
});
