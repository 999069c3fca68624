/**
 * A program loads what it runs and nothing else: cvm-pwfile in command
 * mode and cvm-testclient resolve no SQL driver, no installer, no qmail or
 * LDAP file, and import no node: built-in (each costs every start), as
 * deno's own log of the run shows.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { SAMPLE_PASSWD, startServer, tempDir } from "./_helpers.ts";
import { ensureDist } from "./_helpers.ts";
import { dist } from "./_helpers.ts";
import { modulesLoaded, NOT_FOR_LIGHT_PROGRAMS } from "./_modules_loaded.ts";

const REQUEST = new Uint8Array([
  2,
  0,
  1,
  3,
  ...new TextEncoder().encode("Bob"),
  3,
  3,
  ...new TextEncoder().encode("pw2"),
  0,
]);

function strays(files: string[]): string[] {
  return files.filter((f) =>
    NOT_FOR_LIGHT_PROGRAMS.some((room) => f.startsWith(room))
  );
}

Deno.test("cvm-pwfile in command mode loads no SQL, qmail, LDAP or installer file, no npm package and no node: built-in", async () => {
  const dir = tempDir();
  try {
    Deno.writeTextFileSync(`${dir.path}/passwd`, SAMPLE_PASSWD);
    const loaded = await modulesLoaded(["cvm-pwfile"], {
      stdin: REQUEST,
      env: { CVM_PWFILE_PATH: `${dir.path}/passwd` },
    });
    assert(loaded.files.includes("modules/pwfile.ts"), "the log was read");
    assertEquals(strays(loaded.files), []);
    assertEquals(loaded.npm, []);
    assertEquals(loaded.node, []);
  } finally {
    dir.cleanup();
  }
});

Deno.test("cvm-testclient over a local socket loads no module side, no npm package and no node: built-in", async () => {
  await ensureDist();
  const dir = tempDir();
  const passwd = `${dir.path}/passwd`;
  Deno.writeTextFileSync(passwd, SAMPLE_PASSWD);
  const server = await startServer(`${dist}/cvm-pwfile`, [
    `cvm-local:${dir.path}/s`,
  ], { CVM_PWFILE_PATH: passwd });
  try {
    const loaded = await modulesLoaded([
      "cvm-testclient",
      `cvm-local:${dir.path}/s`,
      "bob",
      "",
      "pw2",
    ]);
    assert(loaded.files.includes("clients/client.ts"), "the log was read");
    assertEquals(loaded.files.filter((f) => f.startsWith("modules/")), []);
    assertEquals(strays(loaded.files), []);
    assertEquals(loaded.npm, []);
    assertEquals(loaded.node, []);
  } finally {
    await server.stop();
    dir.cleanup();
  }
});
