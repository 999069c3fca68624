/**
 * cvm-cdb keys names by their bytes, as the reference's cvm-pwfile compares
 * them: a store imported from a passwd file with ISO-8859-1 and UTF-8
 * names answers every raw request with the very bytes the reference's
 * cvm-pwfile answers on the passwd file, in command mode and from
 * cvm-cdb-local; cvm cdbpasswd keeps such names byte for byte, and an
 * upgrade on login of such an account writes the same bytes back.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  dist,
  ensureDist,
  have,
  REF,
  run,
  type Server,
  startServer,
  tempDir,
} from "../../_helpers.ts";
import {
  askCommand,
  askLocal,
  bytesOf,
  rawRequest,
  shown,
} from "../_raw_names.ts";
import { Cdb } from "../../../modules/cdb/mod.ts";

const PASSWD = [
  "jos\xe9:latin-pw:1001:100:Jos\xe9 Latin,,:/home/jos\xe9:/bin/sh",
  "ren\xc3\xa9e:utf8-pw:1002:100:Ren\xc3\xa9e,,:/home/ren\xc3\xa9e:/bin/sh",
  "bob:bob-pw:1003:100:Bob:/home/bob:/bin/sh",
  "",
].join("\n");

const CASES: Array<[string, string, number]> = [
  ["jos\xe9", "latin-pw", 0],
  ["JOS\xe9", "latin-pw", 0],
  ["jos\xff", "latin-pw", 100],
  ["jos\xc9", "latin-pw", 100],
  ["jos\xc3\xa9", "latin-pw", 100],
  ["jos\xef\xbf\xbd", "latin-pw", 100],
  ["ren\xc3\xa9e", "utf8-pw", 0],
  ["ren\xe9e", "utf8-pw", 100],
  ["\xef\xbb\xbfbob", "bob-pw", 100],
  ["bob", "bob-pw", 0],
];

Deno.test("cvm-cdb keys names by their bytes and answers raw requests as the reference's cvm-pwfile, in command mode and from cvm-cdb-local", async (t) => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  let server: Server | undefined;
  try {
    const passwd = `${dir.path}/passwd`;
    const store = `${dir.path}/users.cdb`;
    Deno.writeFileSync(passwd, bytesOf(PASSWD));
    const made = await run(`${dist}/cvm`, [
      "cdbpasswd",
      "-f",
      store,
      "import",
      passwd,
    ]);
    assertEquals(made.code, 0, made.stderr);
    const keys = [...Cdb.fromBytes(Deno.readFileSync(store)).entries()].map((
      [key],
    ) => shown(String.fromCharCode(...key)));
    assertEquals(keys, ["jos\\xe9", "ren\\xc3\\xa9e", "bob"]);
    const refEnv = { CVM_PWFILE_PATH: passwd };
    const ourEnv = { CVM_CDB_PATH: store, CVM_CDB_PWCMP: "plain" };
    const socket = `${dir.path}/s.sock`;
    server = await startServer(`${dist}/cvm-cdb-local`, [socket], ourEnv);
    for (const [account, password, code] of CASES) {
      await t.step(shown(account), async () => {
        const request = rawRequest(account, password);
        const ref = await askCommand(`${REF}/cvm-pwfile`, refEnv, request);
        assertEquals(ref.code, code);
        assertEquals(await askCommand(`${dist}/cvm-cdb`, ourEnv, request), ref);
        assertEquals(await askLocal(socket, request), ref);
      });
    }
  } finally {
    await server?.stop();
    dir.cleanup();
  }
});

Deno.test("an upgrade on login of a name that is not UTF-8 writes its bytes back, in cvm-cdb and cvm-pwfile", async () => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    const passwd = `${dir.path}/passwd`;
    const store = `${dir.path}/users.cdb`;
    Deno.writeFileSync(passwd, bytesOf(PASSWD));
    assertEquals(
      (await run(`${dist}/cvm`, ["cdbpasswd", "-f", store, "import", passwd]))
        .code,
      0,
    );
    const request = rawRequest("jos\xe9", "latin-pw");
    const cdbEnv = {
      CVM_CDB_PATH: store,
      CVM_CDB_PWCMP: "scheme",
      CVM_DEFAULT_SCHEME: "PLAIN",
      CVM_REHASH: "SHA256-CRYPT",
    };
    assertEquals(
      (await askCommand(`${dist}/cvm-cdb`, cdbEnv, request)).code,
      0,
    );
    const value = Cdb.fromBytes(Deno.readFileSync(store)).get(
      bytesOf("jos\xe9"),
    )!;
    const text = String.fromCharCode(...value);
    assertEquals(
      text.startsWith("jos\xe9:{SHA256-CRYPT}$5$"),
      true,
      shown(text),
    );
    assertEquals(
      text.endsWith(":1001:100:Jos\xe9 Latin,,:/home/jos\xe9:/bin/sh"),
      true,
    );
    const pwEnv = {
      CVM_PWFILE_PATH: passwd,
      CVM_PWFILE_PWCMP: "scheme",
      CVM_DEFAULT_SCHEME: "PLAIN",
      CVM_REHASH: "SHA256-CRYPT",
    };
    assertEquals(
      (await askCommand(`${dist}/cvm-pwfile`, pwEnv, request)).code,
      0,
    );
    const file = String.fromCharCode(...Deno.readFileSync(passwd));
    assertEquals(
      /^jos\xe9:\{SHA256-CRYPT\}\$5\$[^:]+:1001:/.test(file),
      true,
      shown(file),
    );
    assertEquals(
      file.split("\n").slice(1).join("\n"),
      PASSWD.split("\n").slice(1).join("\n"),
    );
  } finally {
    dir.cleanup();
  }
});
