/**
 * cvm-checkpassword and cvm-v1checkpassword and their fd 3, against the
 * reference's: the input is read from the descriptor itself (a socketpair
 * works, not only a file), and fd 3 is closed before anything else runs, so
 * neither a module run as a command nor the next program can read the
 * password there.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { dist, ensureDist, have, REF, run, tempDir } from "../_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

const libc = Deno.dlopen("libc.so.6", {
  socketpair: {
    parameters: ["i32", "i32", "i32", "buffer"],
    result: "i32",
  },
  dup: { parameters: ["i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
});

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/**
 * A connected socket pair holding `input` for its reader, the writing end
 * already closed (so the reader sees the bytes, then end of input). The
 * reader is returned as a descriptor without close-on-exec, for a child to
 * inherit; the caller closes it.
 */
function socketWithInput(input: Uint8Array): number {
  const pair = new Int32Array(2);
  const rc = libc.symbols.socketpair(
    AF_UNIX,
    SOCK_STREAM | SOCK_CLOEXEC,
    0,
    pair,
  );
  assertEquals(rc, 0, "socketpair");
  const [reader, writer] = pair;
  const buffer = new Uint8Array(input);
  assertEquals(
    Number(libc.symbols.write(writer, buffer, BigInt(buffer.length))),
    buffer.length,
  );
  libc.symbols.close(writer);
  // dup() makes a copy without close-on-exec: only that one is inherited.
  const inherited = libc.symbols.dup(reader);
  libc.symbols.close(reader);
  assert.ok(inherited >= 0, "dup");
  return inherited;
}

const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;

/** Runs a checkpassword with fd 3 redirected from `redirect` (a shell redirection). */
function checkpassword(
  program: string,
  args: string[],
  redirect: string,
  env: Record<string, string>,
) {
  return run("/bin/bash", [
    "-c",
    `exec ${[program, ...args].map(quote).join(" ")} ${redirect}`,
  ], { env: { PATH: "/usr/bin:/bin", ...env } });
}

/** A passwd file with bob (password pw2) running as the test's own user. */
function passwdFile(dir: string): string {
  const path = `${dir}/passwd`;
  Deno.writeTextFileSync(
    path,
    `bob:pw2:${Deno.uid()}:${Deno.gid()}::${dir}:/bin/sh\n`,
  );
  return path;
}

for (const v of ["", "v1"]) {
  const name = `cvm-${v}checkpassword`;
  /** The reference's program with its cvm-pwfile, then ours with ours. */
  const THEIRS_THEN_OURS = [
    [`${REF}/${name}`, `${REF}/cvm-pwfile`],
    [`${dist}/${name}`, `${dist}/cvm-pwfile`],
  ];

  Deno.test(`${name}: the next program cannot read fd 3 (a file), as with the reference`, async () => {
    if (!have(`${REF}/${name}`)) return;
    await ensureDist();
    const dir = tempDir();
    try {
      const env = { CVM_PWFILE_PATH: passwdFile(dir.path) };
      Deno.writeFileSync(`${dir.path}/fd3`, enc("bob\0pw2\0"));
      // The next program tries to read fd 3 and says what it got.
      const next = [
        "/bin/sh",
        "-c",
        "od -An -c <&3 2>/dev/null || echo closed",
      ];
      const outcomes = [];
      for (const [program, module] of THEIRS_THEN_OURS) {
        const out = await checkpassword(
          program,
          [module, ...next],
          `3<${dir.path}/fd3`,
          env,
        );
        outcomes.push({ code: out.code, stdout: out.stdout });
      }
      const [ref, ours] = outcomes;
      assertEquals(ref, { code: 0, stdout: "closed\n" });
      assertEquals(ours, ref);
    } finally {
      dir.cleanup();
    }
  });

  Deno.test(`${name}: a module run as a command does not inherit fd 3, as with the reference`, async () => {
    if (!have(`${REF}/${name}`)) return;
    await ensureDist();
    const dir = tempDir();
    try {
      const env = { CVM_PWFILE_PATH: passwdFile(dir.path) };
      Deno.writeFileSync(`${dir.path}/fd3`, enc("bob\0pw2\0"));
      // A command module that notes whether it can see fd 3, then lets the
      // real module answer.
      const spy = `${dir.path}/spy.sh`;
      Deno.writeTextFileSync(
        spy,
        `#!/bin/sh\nif [ -e /proc/self/fd/3 ]; then echo open; else echo closed; fi > "$SEEN"\nexec "$MODULE"\n`,
      );
      Deno.chmodSync(spy, 0o755);
      const seen = [];
      for (const [program, module] of THEIRS_THEN_OURS) {
        const out = await checkpassword(
          program,
          [spy, "/bin/true"],
          `3<${dir.path}/fd3`,
          { ...env, SEEN: `${dir.path}/seen`, MODULE: module },
        );
        seen.push([out.code, Deno.readTextFileSync(`${dir.path}/seen`)]);
      }
      const [ref, ours] = seen;
      assertEquals(ref, [0, "closed\n"]);
      assertEquals(ours, ref);
    } finally {
      dir.cleanup();
    }
  });

  Deno.test(`${name}: fd 3 a socket (socketpair) logs in, as with the reference`, async () => {
    if (!have(`${REF}/${name}`)) return;
    await ensureDist();
    const dir = tempDir();
    try {
      const env = { CVM_PWFILE_PATH: passwdFile(dir.path) };
      const next = ["/bin/sh", "-c", 'echo "$USER in $(pwd)"'];
      const cases: [string, number, string][] = [
        ["bob\0pw2\0", 0, `bob in ${dir.path}\n`],
        ["bob\0wrong\0", 100, ""],
        ["bob", 2, ""],
      ];
      for (const [input, code, stdout] of cases) {
        for (const [program, module] of THEIRS_THEN_OURS) {
          const fd = socketWithInput(enc(input));
          try {
            const out = await checkpassword(
              program,
              [module, ...next],
              `3<&${fd} ${fd}<&-`,
              env,
            );
            assertEquals(
              { code: out.code, stdout: out.stdout },
              { code, stdout },
              `${program} ${JSON.stringify(input)}`,
            );
          } finally {
            libc.symbols.close(fd);
          }
        }
      }
    } finally {
      dir.cleanup();
    }
  });
}
