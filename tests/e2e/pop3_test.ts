/**
 * End to end, a real POP3 login: the example run script
 * `examples/daemontools/pop3d/run` (tcpserver on a loopback port running
 * mailfront's `pop3front-auth cvm-local:SOCKET pop3front-maildir Maildir`)
 * against our cvm-pwfile's socket. A POP3 client logs in with USER/PASS,
 * lists the message placed in the Maildir and retrieves it; a wrong
 * password gets -ERR and a `-` line in the module's log.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  expect,
  freeTcpPort,
  LineClient,
  requirePrograms,
  root,
  type Server,
  spawnGroup,
  startServer,
  waitForListener,
  within,
} from "./_helpers.ts";
import { tempDir } from "../_helpers.ts";

Deno.test("e2e pop3: tcpserver + pop3front-auth log in through our cvm-pwfile socket", async () => {
  const programs = requirePrograms("pop3", [
    "tcpserver",
    "pop3front-auth",
    "pop3front-maildir",
  ]);
  if (!programs) return;
  await ensureDist();
  const tmp = tempDir();
  const socket = `${tmp.path}/cvm.sock`;
  const home = `${tmp.path}/home/bob`;
  let module: Server | undefined;
  let pop3: ReturnType<typeof spawnGroup> | undefined;
  const clients: LineClient[] = [];
  try {
    // The user is whoever runs the test: pop3front-auth changes to them.
    for (const d of ["new", "cur", "tmp"]) {
      Deno.mkdirSync(`${home}/Maildir/${d}`, { recursive: true });
    }
    const message = [
      "From: alice@example.org",
      "To: bob@example.org",
      "Subject: hello through cvm",
      "",
      "The body of the message.",
      "",
    ].join("\n"); // Maildir files have bare LFs
    Deno.writeTextFileSync(`${home}/Maildir/new/1000000000.1.test`, message);
    const pwfile = `${tmp.path}/passwd`;
    Deno.writeTextFileSync(
      pwfile,
      `bob:secret:${Deno.uid()}:${Deno.gid()}:Bob:${home}:/bin/sh\n`,
    );
    module = await within(
      "our cvm-pwfile to start",
      startServer(`${dist}/cvm-pwfile`, [`cvm-local:${socket}`], {
        CVM_PWFILE_PATH: pwfile,
      }),
    );

    const port = freeTcpPort();
    pop3 = spawnGroup(`${root}/examples/daemontools/pop3d/run`, [], {
      env: {
        PATH: `${Deno.env.get("PATH")}:/usr/sbin:/usr/bin:/bin`,
        CVM: `cvm-local:${socket}`,
        IP: "127.0.0.1",
        PORT: String(port),
        HOST: "localhost",
      },
    });
    await waitForListener(port, pop3);

    const c = await LineClient.connect(port);
    clients.push(c);
    expect((await c.readLine()).startsWith("+OK"), "greeting", c);
    expect((await c.command("USER bob")).startsWith("+OK"), "USER", c);
    expect(
      (await c.command("PASS secret", "PASS ******")).startsWith("+OK"),
      "PASS with the right password",
      c,
    );
    await within(
      "'+ bob@localhost' in the module log",
      module.waitFor(/^\+ bob@localhost$/),
    );
    expect((await c.command("LIST")).startsWith("+OK"), "LIST", c);
    const listing = await c.readUntil((l) => l === ".");
    const size = new TextEncoder().encode(message).length;
    assertEquals(listing, [`1 ${size}`, "."]);
    expect((await c.command("RETR 1")).startsWith("+OK"), "RETR", c);
    const body = await c.readUntil((l) => l === ".");
    expect(body.includes("Subject: hello through cvm"), "the header", c);
    expect(body.includes("The body of the message."), "the body", c);
    expect((await c.command("QUIT")).startsWith("+OK"), "QUIT", c);

    const w = await LineClient.connect(port);
    clients.push(w);
    expect((await w.readLine()).startsWith("+OK"), "greeting", w);
    expect((await w.command("USER bob")).startsWith("+OK"), "USER", w);
    expect(
      (await w.command("PASS wrong", "PASS *****")).startsWith("-ERR"),
      "-ERR for a wrong password",
      w,
    );
    await within(
      "'- bob@localhost' in the module log",
      module.waitFor(/^- bob@localhost$/),
    );
    expect(
      !module.log.some((l) => /secret|wrong/.test(l)),
      "a password in the log",
    );
    expect((await w.command("QUIT")).startsWith("+OK"), "QUIT", w);
  } finally {
    for (const c of clients) c.close();
    await pop3?.stop();
    await module?.stop();
    tmp.cleanup();
  }
});
