/**
 * Credential 128, the client's address: our clients send it (from
 * `$CVM_CLIENT_ADDRESS`, else `$TCPREMOTEIP`), cvm-chain passes it on, and
 * Debian's modules ignore it, so mixed deployments keep working.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodeRequestV2 } from "../../../protocol/mod.ts";
import {
  dist,
  ensureDist,
  have,
  REF,
  run,
  startServer,
  tempDir,
} from "../../_helpers.ts";

const enc = new TextEncoder();
const PASSWD = "bob:pw:1000:1000:Bob:/home/bob:/bin/sh\n";

function request(password: string | undefined, address?: string) {
  const creds = [{ type: 1, value: enc.encode("bob") }];
  if (password !== undefined) {
    creds.push({ type: 3, value: enc.encode(password) });
  }
  if (address !== undefined) {
    creds.push({ type: 128, value: enc.encode(address) });
  }
  return encodeRequestV2(new Uint8Array(0), creds);
}

Deno.test("Debian's cvm-pwfile ignores credential 128 and answers as without it; so does ours", async () => {
  if (!have(`${REF}/cvm-pwfile`)) return;
  await ensureDist();
  const dir = tempDir();
  try {
    Deno.writeTextFileSync(`${dir.path}/passwd`, PASSWD);
    const env = { CVM_PWFILE_PATH: `${dir.path}/passwd` };
    for (const password of ["pw", "wrong", undefined]) {
      const plain = await run(`${REF}/cvm-pwfile`, [], {
        env,
        stdin: request(password),
      });
      for (const address of ["192.0.2.1", "2001:db8::1", "junk\n"]) {
        const what = `${password} ${JSON.stringify(address)}`;
        const ref = await run(`${REF}/cvm-pwfile`, [], {
          env,
          stdin: request(password, address),
        });
        assert.equal(ref.code, plain.code, what);
        assert.deepEqual(ref.stdoutBytes, plain.stdoutBytes, what);
        const ours = await run(`${dist}/cvm-pwfile`, [], {
          env,
          stdin: request(password, address),
        });
        assert.equal(ours.code, ref.code, what);
        assert.deepEqual(ours.stdoutBytes, ref.stdoutBytes, what);
      }
    }
    assert.equal(
      (await run(`${REF}/cvm-pwfile`, [], { env, stdin: request("pw", "x") }))
        .code,
      0,
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("Debian's cvm-unix ignores credential 128 too", async () => {
  if (!have(`${REF}/cvm-unix`)) return;
  const ask = (address?: string) => {
    const creds = [
      { type: 1, value: enc.encode("nobody") },
      { type: 3, value: enc.encode("not-the-password") },
    ];
    if (address) creds.push({ type: 128, value: enc.encode(address) });
    return run(`${REF}/cvm-unix`, [], {
      stdin: encodeRequestV2(new Uint8Array(0), creds),
    });
  };
  const plain = await ask();
  const withAddress = await ask("192.0.2.1");
  assert.equal(plain.code, 100);
  assert.equal(withAddress.code, plain.code);
  assert.deepEqual(withAddress.stdoutBytes, plain.stdoutBytes);
});

Deno.test("our clients send the address as credential 128 ($CVM_CLIENT_ADDRESS, else $TCPREMOTEIP); cvm-chain passes it on; v1 cannot", async () => {
  await ensureDist();
  const dir = tempDir();
  const socket = `${dir.path}/s`;
  // checkpassword becomes bob: bob is whoever runs the test, at home here.
  Deno.writeTextFileSync(
    `${dir.path}/passwd`,
    `bob:pw:${Deno.uid()}:${Deno.gid()}:Bob:${dir.path}:/bin/sh\n`,
  );
  const server = await startServer(`${dist}/cvm-pwfile`, [
    `cvm-local:${socket}`,
  ], { CVM_PWFILE_PATH: `${dir.path}/passwd`, CVM_PENALTY: "1" });
  try {
    const module = `cvm-local:${socket}`;
    const expected: string[] = [];
    const testclient = async (env: Record<string, string>, line: string) => {
      const r = await run(`${dist}/cvm-testclient`, [module, "bob", "", "pw"], {
        env,
      });
      assert.equal(r.code, 0, r.stderr);
      expected.push(line);
    };
    await testclient({ TCPREMOTEIP: "192.0.2.7" }, "+ bob 192.0.2.7");
    await testclient(
      { TCPREMOTEIP: "192.0.2.7", CVM_CLIENT_ADDRESS: "2001:db8::7" },
      "+ bob 2001:db8::7",
    );
    await testclient({}, "+ bob");

    Deno.writeFileSync(`${dir.path}/fd3`, enc.encode("bob\0pw\0"));
    const checkpassword = await run("/bin/sh", [
      "-c",
      `exec "$0" "$@" 3<"${dir.path}/fd3"`,
      `${dist}/cvm-checkpassword`,
      module,
      "/bin/true",
    ], { env: { TCPREMOTEIP: "192.0.2.8" } });
    assert.equal(checkpassword.code, 0, checkpassword.stderr);
    expected.push("+ bob 192.0.2.8");

    const sasl = await run(`${dist}/sasl-auth-test`, [
      `PLAIN ${btoa("\0bob\0pw")}`,
    ], { env: { CVM_SASL_PLAIN: module, TCPREMOTEIP: "192.0.2.9" } });
    assert.equal(sasl.code, 0, sasl.stderr);
    expected.push("+ bob@ 192.0.2.9"); // the SASL library sends an empty domain

    const chain = await run(`${dist}/cvm-testclient`, [
      `cvm-command:${dist}/cvm-chain`,
      "bob",
      "",
      "pw",
    ], {
      env: {
        ...Deno.env.toObject(),
        CVM_CHAIN0: module,
        TCPREMOTEIP: "192.0.2.10",
      },
    });
    assert.equal(chain.code, 0, chain.stderr);
    expected.push("+ bob 192.0.2.10");

    const v1 = await run(
      `${dist}/cvm-v1testclient`,
      [module, "bob", "", "pw"],
      {
        env: { TCPREMOTEIP: "192.0.2.11" },
      },
    );
    assert.equal(v1.code, 0, v1.stderr);
    expected.push("+ bob");

    await server.waitForLines(expected.length + 1);
    assert.deepEqual(server.log.slice(1), expected);
  } finally {
    await server.stop();
    dir.cleanup();
  }
});
