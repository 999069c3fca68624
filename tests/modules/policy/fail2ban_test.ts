/**
 * examples/fail2ban: the filter finds exactly the rejected clients'
 * addresses in a real module server's log, stamped by daemontools' tai64n
 * as multilog does, with the real fail2ban-regex; forged names find
 * nothing; the jail loads with fail2ban-client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ensureDist, have, root, run, tempDir } from "../../_helpers.ts";
import { ask, startModule } from "./_servers.ts";

const FILTER = `${root}/examples/fail2ban/filter.d/cvm.conf`;
const JAIL = `${root}/examples/fail2ban/jail.d/cvm.conf`;

Deno.test("fail2ban-regex with examples/fail2ban finds the rejected addresses in a multilog-stamped log, and no forged one", async () => {
  if (!have("/usr/bin/fail2ban-regex") || !have("/usr/bin/tai64n")) return;
  await ensureDist();
  const dir = tempDir();
  try {
    Deno.writeTextFileSync(`${dir.path}/passwd`, "bob:pw:1:1::/:\n");
    const module = await startModule("cvm-pwfile", "local", {
      CVM_PWFILE_PATH: `${dir.path}/passwd`,
      CVM_PENALTY: "1",
      CVM_PENALTY_BASE: "0.01",
    }, dir.path);
    try {
      await ask(module, "bob@example.com", "guess", "192.0.2.1");
      await ask(module, "bob", "pw", "192.0.2.1"); // a success: not a failure
      await ask(module, "carol", "guess", "2001:db8::5");
      await ask(module, "x 6.6.6.6", "guess"); // a name posing as an address
      await ask(module, "y 6.6.6.7", "guess", "192.0.2.3");
      await ask(module, "bob", "guess", "1.2.3.4\n- z 9.9.9.9"); // junk address
      await ask(module, "z\n- a 9.9.9.8", "guess"); // a name posing as a line
      await ask(module, "dave", "guess", "192.0.2.1");
      await module.server!.waitForLines(9);
    } finally {
      await module.stop();
    }
    const lines = module.server!.log;
    assert.deepEqual(lines.slice(1, 9), [
      "- bob@example.com 192.0.2.1",
      "+ bob 192.0.2.1",
      "- carol 2001:db8::5",
      "- x?6.6.6.6",
      "- y?6.6.6.7 192.0.2.3",
      "- bob ?",
      "- z?-?a?9.9.9.8",
      "- dave 192.0.2.1",
    ]);
    // Stamp the log as `multilog t` does.
    const stamp = await new Deno.Command("/usr/bin/tai64n", {
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = stamp.stdin.getWriter();
    await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    await writer.close();
    const stamped = new TextDecoder().decode((await stamp.output()).stdout);
    assert.match(stamped, /^@[0-9a-f]{24} Starting\.$/m);
    Deno.writeTextFileSync(`${dir.path}/current`, stamped);
    const found = await run("/usr/bin/fail2ban-regex", [
      "-o",
      "ip",
      `${dir.path}/current`,
      FILTER,
    ]);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(found.stdout.trim().split("\n"), [
      "192.0.2.1",
      "2001:db8::5",
      "192.0.2.3",
      "192.0.2.1",
    ]);
    // The same lines without stamps (journal, plain file) too.
    Deno.writeTextFileSync(`${dir.path}/plain`, lines.join("\n") + "\n");
    const plain = await run("/usr/bin/fail2ban-regex", [
      "-o",
      "ip",
      `${dir.path}/plain`,
      FILTER,
    ]);
    assert.equal(plain.stdout, found.stdout);
  } finally {
    dir.cleanup();
  }
});

Deno.test("fail2ban-client loads examples/fail2ban's jail with its filter", async () => {
  if (!have("/usr/bin/fail2ban-client")) return;
  const dir = tempDir();
  try {
    const conf = `${dir.path}/fail2ban`;
    const copy = await run("/bin/cp", ["-r", "/etc/fail2ban", conf]);
    assert.equal(copy.code, 0, copy.stderr);
    // Only the cvm jail: the system's own jails may want logs absent here.
    for (const entry of Deno.readDirSync(`${conf}/jail.d`)) {
      Deno.removeSync(`${conf}/jail.d/${entry.name}`);
    }
    Deno.copyFileSync(FILTER, `${conf}/filter.d/cvm.conf`);
    Deno.writeTextFileSync(`${dir.path}/current`, "");
    Deno.writeTextFileSync(
      `${conf}/jail.d/cvm.conf`,
      Deno.readTextFileSync(JAIL).replace(
        /^logpath\s*=.*$/m,
        `logpath  = ${dir.path}/current`,
      ),
    );
    const dump = await run("/usr/bin/fail2ban-client", ["-c", conf, "-d"]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /\['add', 'cvm', 'polling'\]/);
    assert.match(
      dump.stdout,
      /\['set', 'cvm', 'addfailregex', '\^\(\?:@\[0-9a-f\]\{24\} \)\?- \\\\S\+ <ADDR>\$'\]/,
    );
    assert.match(dump.stdout, /\['set', 'cvm', 'maxretry', 5\]/);
    assert.match(dump.stdout, /\['start', 'cvm'\]/);
  } finally {
    dir.cleanup();
  }
});
