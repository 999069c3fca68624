/**
 * answerRequest(): the module side of one request over a fake backend,
 * byte for byte.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { answerRequest } from "../../../modules/runtime/answer.ts";
import { type Backend, Rejection } from "../../../modules/runtime/backend.ts";
import { CvmError, encodeRequestV2, ErrorCode } from "../../../protocol/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);

interface Account {
  name: string;
  password: string;
}

function fakeBackend(calls: string[] = []): Backend<Account> {
  return {
    lookup(request) {
      calls.push(`lookup ${request.account}`);
      if (request.account === "foreign") throw new Rejection(1);
      if (request.account === "down") {
        throw new CvmError(ErrorCode.IO, "db down");
      }
      if (request.account === "boom") throw new Error("bug");
      return Promise.resolve(
        request.account === "bob" ? { name: "bob", password: "pw" } : undefined,
      );
    },
    authenticate(account, request) {
      calls.push("authenticate");
      if (!request.password) {
        throw new CvmError(ErrorCode.NOCRED, "no password");
      }
      return Promise.resolve(
        new TextDecoder().decode(request.password) === account.password,
      );
    },
    results(account) {
      return { username: account.name, userid: 1, groupid: 2, directory: "/h" };
    },
  };
}

function request(creds: Array<[number, string]>, random = [7, 7]) {
  return encodeRequestV2(
    new Uint8Array(random),
    creds.map(([type, value]) => ({ type, value: enc(value) })),
  );
}

Deno.test("answerRequest() answers success with the facts in the reference's order", async () => {
  const a = await answerRequest(
    fakeBackend(),
    request([[1, "bob"], [3, "pw"]]),
    {},
  );
  assertEquals(a.code, 0);
  assertEquals(
    Array.from(a.reply),
    [
      0,
      2,
      7,
      7,
      1,
      3,
      ...enc("bob"),
      2,
      1,
      49,
      3,
      1,
      50,
      5,
      2,
      ...enc("/h"),
      0,
    ],
  );
});

Deno.test("answerRequest() answers PERMFAIL for a wrong password and an unknown account", async () => {
  for (
    const creds of [[[1, "bob"], [3, "bad"]], [[1, "zed"], [3, "pw"]]] as Array<
      Array<[number, string]>
    >
  ) {
    const a = await answerRequest(fakeBackend(), request(creds), {});
    assertEquals(Array.from(a.reply), [100, 2, 7, 7, 0]);
  }
});

Deno.test("answerRequest() sends out-of-scope with a rejection that carries it", async () => {
  const a = await answerRequest(
    fakeBackend(),
    request([[1, "foreign"], [3, "pw"]], []),
    {},
  );
  assertEquals(Array.from(a.reply), [100, 0, 16, 1, 49, 0]);
});

Deno.test("answerRequest() turns a backend's CvmError into that temporary code and a bug into GENERAL", async () => {
  const down = await answerRequest(
    fakeBackend(),
    request([[1, "down"], [3, "pw"]], []),
    {},
  );
  assertEquals([down.code, Array.from(down.reply)], [4, [4, 0, 0]]);
  const boom = await answerRequest(
    fakeBackend(),
    request([[1, "boom"], [3, "pw"]], []),
    {},
  );
  assertEquals(boom.code, ErrorCode.GENERAL);
});

Deno.test("answerRequest() answers NOCRED without an account or a password, or with an empty one", async () => {
  const noAccount = await answerRequest(
    fakeBackend(),
    request([[3, "pw"]], []),
    {},
  );
  assertEquals(noAccount.code, ErrorCode.NOCRED);
  const noPassword = await answerRequest(
    fakeBackend(),
    request([[1, "bob"]], []),
    {},
  );
  assertEquals(noPassword.code, ErrorCode.NOCRED);
  // A password credential of length 0 is no password, as in the reference.
  const emptyPassword = await answerRequest(
    fakeBackend(),
    request([[1, "bob"], [3, ""]], []),
    {},
  );
  assertEquals(emptyPassword.code, ErrorCode.NOCRED);
});

Deno.test("answerRequest() in lookup mode skips authenticate and checks a non-empty secret", async () => {
  const calls: string[] = [];
  const secret = { lookupSecret: enc("s3") };
  const ok = await answerRequest(
    fakeBackend(calls),
    request([[1, "bob"], [4, "s3"]], []),
    secret,
  );
  assertEquals([ok.code, calls], [0, ["lookup bob"]]);
  const wrong = await answerRequest(
    fakeBackend(),
    request([[1, "bob"], [4, "s4"]], []),
    secret,
  );
  assertEquals(wrong.code, ErrorCode.NOCRED);
  const missing = await answerRequest(
    fakeBackend(),
    request([[1, "bob"]], []),
    secret,
  );
  assertEquals(missing.code, ErrorCode.NOCRED);
  const open = await answerRequest(
    fakeBackend(),
    request([[1, "bob"], [3, "x"]], []),
    {
      lookupSecret: new Uint8Array(0),
    },
  );
  assertEquals(open.code, 0);
});

Deno.test("answerRequest() in lookup mode takes a version 1 credential as the secret", async () => {
  const v1 = new Uint8Array([1, ...enc("bob"), 0, 0, ...enc("s3"), 0, 0]);
  const a = await answerRequest(fakeBackend(), v1, { lookupSecret: enc("s3") });
  assertEquals(a.code, 0);
  const bad = new Uint8Array([1, ...enc("bob"), 0, 0, ...enc("s4"), 0, 0]);
  assertEquals(
    Array.from(
      (await answerRequest(fakeBackend(), bad, { lookupSecret: enc("s3") }))
        .reply,
    ),
    [7, 0],
  );
});

Deno.test("answerRequest() reports who the request was for, for the log", async () => {
  const a = await answerRequest(
    fakeBackend(),
    request([[1, "bob"], [2, "x.org"], [3, "pw"]]),
    {},
  );
  assertEquals([a.account, a.domain], ["bob", "x.org"]);
  const b = await answerRequest(
    fakeBackend(),
    request([[1, "bob"], [3, "pw"]]),
    {},
  );
  assertEquals([b.account, b.domain], ["bob", undefined]);
});

Deno.test("answerRequest() has the backend spend a decoy check on an account it does not find or rejects in scope, and only then", async () => {
  const decoys: string[] = [];
  const backend: Backend<Account> = {
    ...fakeBackend(),
    lookup(request) {
      if (request.account === "mine") throw new Rejection(0, "no such user");
      return fakeBackend().lookup(request);
    },
    decoy(request) {
      decoys.push(request.account);
      return Promise.resolve();
    },
  };
  const ask = (account: string, options = {}) =>
    answerRequest(backend, request([[1, account], [3, "pw"]]), options);
  assertEquals((await ask("zed")).code, 100);
  assertEquals((await ask("mine")).code, 100);
  assertEquals(decoys, ["zed", "mine"]);
  // Found, not this module's, a temporary failure, or lookup mode: none.
  assertEquals((await ask("bob")).code, 0);
  assertEquals((await ask("foreign")).code, 100);
  assertEquals((await ask("down")).code, 4);
  assertEquals(
    (await ask("zed", { lookupSecret: new Uint8Array(0) })).code,
    100,
  );
  assertEquals(decoys, ["zed", "mine"]);
});

Deno.test("answerRequest() answers a rejection even when the decoy check fails", async () => {
  const backend: Backend<Account> = {
    ...fakeBackend(),
    decoy: () => Promise.reject(new Error("crypt broke")),
  };
  const a = await answerRequest(backend, request([[1, "zed"], [3, "pw"]]), {});
  assertEquals(a.code, 100);
});
