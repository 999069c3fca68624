/**
 * The import graph keeps the house rules (see tests/_architecture.ts): read
 * from `deno info --json` for the binary's and the library's entry points,
 * and each rule shown to catch a graph made to break it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { root } from "./_helpers.ts";
import {
  architectureViolations,
  BACKEND_FILES,
  BACKEND_ROOMS,
  backendOf,
  isBackend,
  projectImports,
  roomOf,
} from "./_architecture.ts";

Deno.test("the import graph of main.ts and mod.ts keeps every house rule", async () => {
  const edges = await projectImports(root, ["main.ts", "mod.ts"]);
  // The graph really was read: the program table reaches every backend room.
  for (const room of ["modules/sql", "modules/qmail", "modules/ldap"]) {
    assert.ok(
      edges.some((e) => e.to === `${room}/mod.ts`),
      `no import of ${room}/mod.ts found`,
    );
  }
  assert.deepEqual(architectureViolations(edges), []);
});

Deno.test("the scripts (bench, demo, upstream runner) keep the house rules too: no reaching past a face", async () => {
  const scripts = [...Deno.readDirSync(`${root}/scripts`)]
    .filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => `scripts/${e.name}`);
  const edges = await projectImports(root, scripts);
  assert.ok(
    edges.some((e) => e.from === "scripts/bench_passwords.ts"),
    "the scripts' graph was not read",
  );
  // The tests' helpers they borrow may reach into the room they test.
  const product = edges.filter((e) => !e.from.startsWith("tests/"));
  assert.deepEqual(architectureViolations(product), []);
});

Deno.test("architectureViolations() catches a runtime or library file importing a backend", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "modules/runtime/answer.ts", to: "modules/pwfile.ts" },
      { from: "modules/passwords/check.ts", to: "modules/sql/mod.ts" },
      { from: "modules/cdb/reader.ts", to: "modules/qmail/mod.ts" },
    ]),
    [
      "runs up to a backend: modules/runtime/answer.ts -> modules/pwfile.ts",
      "runs up to a backend: modules/passwords/check.ts -> modules/sql/mod.ts",
      "runs up to a backend: modules/cdb/reader.ts -> modules/qmail/mod.ts",
    ],
  );
});

Deno.test("architectureViolations() catches a backend importing another backend", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "modules/cdbfile/backend.ts", to: "modules/pwfile.ts" },
      { from: "modules/pwfile.ts", to: "modules/unix.ts" },
      { from: "modules/chain.ts", to: "modules/sql/mod.ts" },
      { from: "modules/qmail/vchkpw.ts", to: "modules/ldap/mod.ts" },
    ]),
    [
      "a backend imports another backend: modules/cdbfile/backend.ts -> modules/pwfile.ts",
      "a backend imports another backend: modules/pwfile.ts -> modules/unix.ts",
      "a backend imports another backend: modules/chain.ts -> modules/sql/mod.ts",
      "a backend imports another backend: modules/qmail/vchkpw.ts -> modules/ldap/mod.ts",
    ],
  );
});

Deno.test("architectureViolations() lets a backend use its own room, its private files and the libraries", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "modules/sql/pgsql.ts", to: "modules/sql/framework.ts" },
      { from: "modules/pwfile.ts", to: "modules/_pwfile_index.ts" },
      { from: "modules/pwfile.ts", to: "modules/passwords/mod.ts" },
      { from: "modules/cdbfile/backend.ts", to: "modules/passwords/mod.ts" },
    ]),
    [],
  );
});

Deno.test("BACKEND_FILES and BACKEND_ROOMS name every file that exports a create*Backend", async () => {
  const exportsBackend = /export (?:async )?function create\w*Backend\b/;
  const files: string[] = [];
  const rooms = new Set<string>();
  for await (const entry of Deno.readDir(`${root}/modules`)) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      const text = await Deno.readTextFile(`${root}/modules/${entry.name}`);
      if (exportsBackend.test(text)) files.push(`modules/${entry.name}`);
    } else if (entry.isDirectory) {
      for await (const inner of Deno.readDir(`${root}/modules/${entry.name}`)) {
        if (!inner.isFile || !inner.name.endsWith(".ts")) continue;
        const path = `${root}/modules/${entry.name}/${inner.name}`;
        if (exportsBackend.test(await Deno.readTextFile(path))) {
          rooms.add(`modules/${entry.name}`);
        }
      }
    }
  }
  assert.deepEqual(files.sort(), [...BACKEND_FILES]);
  assert.deepEqual([...rooms].sort(), [...BACKEND_ROOMS]);
});

Deno.test("architectureViolations() catches a file reaching past a folder's mod.ts", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "modules/pwfile.ts", to: "modules/runtime/answer.ts" },
      { from: "modules/qmail/users.ts", to: "modules/cdb/reader.ts" },
      { from: "modules/chain.ts", to: "clients/client.ts" },
    ]),
    [
      "reaches past modules/runtime/mod.ts: modules/pwfile.ts -> modules/runtime/answer.ts",
      "reaches past modules/cdb/mod.ts: modules/qmail/users.ts -> modules/cdb/reader.ts",
      "reaches past clients/mod.ts: modules/chain.ts -> clients/client.ts",
    ],
  );
});

Deno.test("architectureViolations() allows faces, imports inside a room and the program table's entries", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "modules/pwfile.ts", to: "modules/runtime/mod.ts" },
      { from: "modules/runtime/local_server.ts", to: "modules/runtime/log.ts" },
      { from: "modules/sql/pgsql.ts", to: "modules/sql/framework.ts" },
      { from: "programs.ts", to: "clients/testclient.ts" },
      { from: "programs.ts", to: "modules/sql/mod.ts" },
      { from: "clients/sasl/state.ts", to: "clients/client.ts" },
    ]),
    [],
  );
});

Deno.test("architectureViolations() keeps protocol/ pure, sys/ low and clients/ off the module side", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "protocol/v2.ts", to: "sys/mod.ts" },
      { from: "sys/crypt.ts", to: "modules/passwords/mod.ts" },
      { from: "clients/client.ts", to: "modules/runtime/mod.ts" },
    ]),
    [
      "protocol/ is pure and imports only itself: protocol/v2.ts -> sys/mod.ts",
      "sys/ imports only itself and protocol/: sys/crypt.ts -> modules/passwords/mod.ts",
      "the client side imports the module side: clients/client.ts -> modules/runtime/mod.ts",
    ],
  );
});

Deno.test("architectureViolations() finds circles between rooms", () => {
  assert.deepEqual(
    architectureViolations([
      { from: "modules/passwords/check.ts", to: "modules/cdb/mod.ts" },
      { from: "modules/cdb/reader.ts", to: "modules/passwords/mod.ts" },
    ]),
    [
      "rooms in a circle: modules/cdb -> modules/passwords -> modules/cdb",
    ],
  );
});

Deno.test("roomOf() and isBackend() sort files into rooms", () => {
  assert.equal(roomOf("modules/sql/pgsql.ts"), "modules/sql");
  assert.equal(roomOf("clients/sasl/state.ts"), "clients/sasl");
  assert.equal(roomOf("clients/testclient.ts"), "clients");
  assert.equal(roomOf("modules/pwfile.ts"), "modules");
  assert.equal(roomOf("main.ts"), "main.ts");
  assert.ok(isBackend("modules/pwfile.ts"));
  assert.ok(isBackend("modules/ldap/backend.ts"));
  assert.ok(!isBackend("modules/runtime/answer.ts"));
  assert.ok(!isBackend("modules/cdb/reader.ts"));
  assert.ok(!isBackend("clients/client.ts"));
  assert.equal(backendOf("modules/sql/pgsql.ts"), "modules/sql");
  assert.equal(backendOf("modules/pwfile.ts"), "modules/pwfile.ts");
  assert.equal(backendOf("modules/_pwfile_index.ts"), undefined);
  assert.equal(backendOf("modules/passwords/passwd_line.ts"), undefined);
});
