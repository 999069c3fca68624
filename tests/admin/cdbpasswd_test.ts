/**
 * `cvm cdbpasswd` as an admin runs it: the store it writes is what
 * tinycdb's `cdb` reads; passwords are read as `cvm pw` reads them and
 * never printed; twenty writers at once lose nothing while a server
 * reading the store under load never fails.
 */
import assert from "node:assert/strict";
import {
  dist,
  ensureDist,
  eventually,
  have,
  REF,
  run,
  type Server,
  startServer,
  tempDir,
} from "../_helpers.ts";
import { verifyPassword } from "../../modules/passwords/mod.ts";

const TINYCDB = "/usr/bin/cdb";
const enc = new TextEncoder();

function cdbpasswd(
  args: string[],
  stdin = "",
  env: Record<string, string> = {},
) {
  return run(`${dist}/cvm`, ["cdbpasswd", ...args], {
    stdin: enc.encode(stdin),
    env,
  });
}

async function tinycdb(...args: string[]): Promise<string> {
  const r = await run(TINYCDB, args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

Deno.test("cvm cdbpasswd add, passwd, del and list change a store as tinycdb's cdb -q and cdb -d read it", async () => {
  if (!have(TINYCDB)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    const f = ["-f", path];
    let r = await cdbpasswd([
      ...f,
      "add",
      "Bob",
      "1001",
      "100",
      "/home/bob",
      "/bin/sh",
    ], "pw one\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, "");
    const bob = await tinycdb("-q", path, "bob");
    assert.match(
      bob,
      /^Bob:\{SHA512-CRYPT\}\$6\$[^:]+:1001:100::\/home\/bob:\/bin\/sh$/,
    );
    assert.ok(await verifyPassword(bob.split(":")[1], enc.encode("pw one")));
    // The default store, from the environment; a scheme of one's choice.
    const env = { CVM_CDB_PATH: path };
    r = await cdbpasswd(
      ["-s", "SSHA256", "add", "carol", "1002", "100", "/home/carol"],
      "pw two",
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(await tinycdb("-q", path, "carol"), /^carol:\{SSHA256\}/);
    r = await cdbpasswd(["list"], "", env);
    assert.deepEqual([r.code, r.stdout], [0, "Bob\ncarol\n"]);
    r = await cdbpasswd([...f, "passwd", "BOB"], "pw three\n");
    assert.equal(r.code, 0, r.stderr);
    const changed = await tinycdb("-q", path, "bob");
    assert.ok(
      await verifyPassword(changed.split(":")[1], enc.encode("pw three")),
    );
    assert.equal(
      changed.split(":").slice(2).join(":"),
      "1001:100::/home/bob:/bin/sh",
    );
    r = await cdbpasswd([...f, "del", "carol"]);
    assert.equal(r.code, 0, r.stderr);
    const dump = await tinycdb("-d", path);
    assert.equal(dump, `+3,${changed.length}:bob->${changed}\n\n`);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm cdbpasswd refuses what it cannot do, exits 1 or 2, and changes nothing", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    const f = ["-f", path];
    assert.equal(
      (await cdbpasswd([...f, "add", "bob", "1", "1", "/h"], "pw\n")).code,
      0,
    );
    const before = Deno.readFileSync(path);
    const cases: Array<[string[], string, number, RegExp]> = [
      [
        [...f, "add", "BOB", "1", "1", "/h"],
        "pw\n",
        1,
        /BOB: the account exists/,
      ],
      [
        [...f, "add", "x:y", "1", "1", "/h"],
        "pw\n",
        1,
        /an account name must not be empty or hold ':'/,
      ],
      [
        [...f, "add", "zed", "-1", "1", "/h"],
        "pw\n",
        1,
        /UID must be a decimal/,
      ],
      [[...f, "add", "zed", "1", "1", "/h:x"], "pw\n", 1, /HOME and SHELL/],
      [
        [...f, "add", "zed", "1", "1", "/h"],
        "\n",
        1,
        /Empty passwords are not allowed/,
      ],
      [
        [...f, "add", "zed", "1", "1", "/h"],
        "",
        1,
        /Empty passwords are not allowed/,
      ],
      [[...f, "passwd", "zed"], "pw\n", 1, /zed: no such account/],
      [[...f, "del", "zed"], "", 1, /zed: no such account/],
      [
        [...f, "-s", "NOPE", "add", "zed", "1", "1", "/h"],
        "pw\n",
        2,
        /-s: unknown scheme/,
      ],
      [[...f, "frob"], "", 2, /unknown command: frob\nusage:/],
      [[...f, "add", "zed"], "", 2, /add: wrong number of arguments/],
      [["list"], "", 2, /no store: give -f FILE or set \$CVM_CDB_PATH/],
      [
        ["-f", `${dir.path}/none.cdb`, "list"],
        "",
        1,
        /\S*none\.cdb: no such store\n/,
      ],
    ];
    for (const [args, stdin, code, message] of cases) {
      const r = await cdbpasswd(args, stdin);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^cvm cdbpasswd: ${message.source}`));
      assert.deepEqual(Deno.readFileSync(path), before, args.join(" "));
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm cdbpasswd never shows a password: not a plain one it cannot store, not an import line it refuses", async () => {
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    const plain = { CVM_CDB_PWCMP: "plain" };
    let r = await cdbpasswd(
      ["-f", path, "add", "bob", "1", "1", "/h"],
      "sec:ret\n",
      plain,
    );
    assert.equal(r.code, 1);
    assert.ok(
      !r.stderr.includes("sec:ret") && !r.stderr.includes("ret"),
      r.stderr,
    );
    r = await cdbpasswd(
      ["-f", path, "add", "bob", "1", "1", "/h"],
      "plainpw\n",
      plain,
    );
    assert.equal(r.code, 0, r.stderr);
    r = await cdbpasswd(
      ["-f", path, "import"],
      "ok:pw:1:1::/h:\n# note\n\nbad:hunter2:1x:1::/h:\n",
    );
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "cvm cdbpasswd: (stdin):4: not a passwd-format line (name, password, decimal or empty uid and gid, gecos, home, shell); nothing imported\n",
    );
    r = await cdbpasswd(["-f", path, "list"]);
    assert.equal(r.stdout, "bob\n", "nothing imported");
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm cdbpasswd import adds passwd-format and Dovecot passwd-file accounts, replacing those of the same name", async () => {
  if (!have(TINYCDB)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    assert.equal(
      (await cdbpasswd(["-f", path, "add", "keep", "1", "1", "/k"], "pw\n"))
        .code,
      0,
    );
    assert.equal(
      (await cdbpasswd(["-f", path, "add", "bob", "1", "1", "/old"], "pw\n"))
        .code,
      0,
    );
    const source = `${dir.path}/passwd`;
    Deno.writeTextFileSync(
      source,
      [
        "# a Dovecot passwd-file",
        "Bob:{SHA512-CRYPT}$6$x$y:1001:100:Bob:/home/bob:/bin/sh",
        "al@example.com:{PLAIN}pw::::::userdb_mail=maildir:~/Maildir",
        "cy:{SSHA}abc",
        "bob:{PLAIN}later:1:1::/:",
        "dos:pw:5:5::/d:\r",
        "",
      ].join("\n"),
    );
    const r = await cdbpasswd(["-f", path, "import", source]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `cvm cdbpasswd: ${source}:5: bob again; the first line stands\n`,
    );
    assert.equal(
      (await cdbpasswd(["-f", path, "list"])).stdout,
      "keep\nBob\nal@example.com\ncy\ndos\n",
    );
    assert.equal(
      await tinycdb("-q", path, "bob"),
      "Bob:{SHA512-CRYPT}$6$x$y:1001:100:Bob:/home/bob:/bin/sh",
    );
    assert.equal(
      await tinycdb("-q", path, "al@example.com"),
      "al@example.com:{PLAIN}pw::::::userdb_mail=maildir:~/Maildir",
    );
    assert.equal(await tinycdb("-q", path, "cy"), "cy:{SSHA}abc:::::");
    assert.equal(await tinycdb("-q", path, "dos"), "dos:pw:5:5::/d:");
  } finally {
    dir.cleanup();
  }
});

Deno.test("20 cvm cdbpasswd adds at once lose nothing, while cvm-cdb-local and command mode under load never fail", async () => {
  if (!have(`${REF}/cvm-benchclient`)) return;
  await ensureDist();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const path = `${dir.path}/users.cdb`;
    const plain = { CVM_CDB_PWCMP: "plain" };
    let r = await cdbpasswd(
      ["-f", path, "add", "reader", "1", "1", "/r"],
      "rpw\n",
      plain,
    );
    assert.equal(r.code, 0, r.stderr);
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-cdb-local`, [socket], {
      CVM_CDB_PATH: path,
      ...plain,
    });
    let writing = true;
    const failures: string[] = [];
    let validations = 0;
    const load = (async () => {
      while (writing) {
        const out = await run(`${REF}/cvm-benchclient`, [
          "50",
          `cvm-local:${socket}`,
          "reader",
          "",
          "rpw",
        ]);
        if (out.code !== 0) failures.push(`local: ${out.code} ${out.stderr}`);
        else validations += 50;
      }
    })();
    const command = (async () => {
      while (writing) {
        const out = await run(`${REF}/cvm-testclient`, [
          `${dist}/cvm-cdb`,
          "reader",
          "",
          "rpw",
        ], { env: { CVM_CDB_PATH: path, ...plain } });
        if (out.code !== 0) failures.push(`command: ${out.code} ${out.stderr}`);
      }
    })();
    const adds = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          cdbpasswd(
            [
              "-f",
              path,
              "add",
              `user${i}`,
              String(2000 + i),
              "100",
              `/home/user${i}`,
            ],
            `pw${i}\n`,
            plain,
          ),
      ),
    );
    writing = false;
    await Promise.all([load, command]);
    for (const add of adds) assert.equal(add.code, 0, add.stderr);
    r = await cdbpasswd(["-f", path, "list"]);
    const names = r.stdout.trim().split("\n").sort();
    assert.deepEqual(
      names,
      ["reader", ...Array.from({ length: 20 }, (_, i) => `user${i}`)].sort(),
    );
    assert.deepEqual(failures, []);
    assert.ok(validations > 0);
    // Every new account answers through the running server (which looks
    // at its file at most once a second).
    for (const i of [0, 7, 19]) {
      const out = await eventually(
        () =>
          run(`${REF}/cvm-testclient`, [
            `cvm-local:${socket}`,
            `user${i}`,
            "",
            `pw${i}`,
          ]),
        (r) => r.code === 0,
      );
      assert.equal(out.code, 0, out.stderr);
    }
    const leftovers = [...Deno.readDirSync(dir.path)].map((e) => e.name)
      .filter((n) => n.includes(".tmp."));
    assert.deepEqual(leftovers, []);
  } finally {
    await server?.stop();
    dir.cleanup();
  }
});

/** Runs cdbpasswd on a terminal (script(1)'s pty), typing each line at its prompt. */
async function onTerminal(args: string[], lines: string[]) {
  const command = [`${dist}/cvm`, "cdbpasswd", ...args]
    .map((a) => `'${a}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let seen = "";
  const reader = child.stdout.getReader();
  const prompts = ["Enter new password: ", "Retype new password: "];
  for (const [i, line] of lines.entries()) {
    // Type only once the prompt shows: echo is off by then.
    while (!seen.includes(prompts[i])) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await writer.write(enc.encode(line + "\r"));
  }
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  await writer.close().catch(() => {});
  const status = await child.status;
  await child.stderr.cancel();
  return { code: status.code, output: seen };
}

Deno.test("cvm cdbpasswd on a terminal asks twice without echo, and refuses two passwords that differ", async () => {
  if (!have("/usr/bin/script")) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const path = `${dir.path}/users.cdb`;
    const ok = await onTerminal(["-f", path, "add", "bob", "1", "1", "/h"], [
      "hunter2",
      "hunter2",
    ]);
    assert.equal(ok.code, 0, ok.output);
    assert.ok(ok.output.includes("Retype new password: "), ok.output);
    assert.ok(!ok.output.includes("hunter2"), ok.output);
    const stored = Deno.readTextFileSync(path);
    assert.ok(stored.includes("bob:{SHA512-CRYPT}$6$"));
    const differ = await onTerminal(["-f", path, "passwd", "bob"], [
      "one",
      "two",
    ]);
    assert.equal(differ.code, 1, differ.output);
    assert.match(differ.output, /Passwords don't match!/);
    assert.equal(Deno.readTextFileSync(path), stored);
  } finally {
    dir.cleanup();
  }
});
