/**
 * The cvm-ldap backend over a recording fake directory: exactly what it
 * asks the directory for (filters, attributes, binds), and what never
 * reaches the directory at all.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Entry } from "ldapts";
import {
  type Directory,
  ldapBackend,
  readLdapSettings,
  type SearchQuery,
} from "../../../modules/ldap/mod.ts";
import { ask } from "./_ask.ts";

const ALICE: Entry = {
  dn: "uid=alice,ou=people,dc=x",
  uid: "alice",
  uidNumber: "1001",
  gidNumber: "100",
  homeDirectory: "/home/alice",
};

/** A directory holding alice (password "right"), recording every call. */
function fakeDirectory(entry: Entry = ALICE) {
  const searches: SearchQuery[] = [];
  const binds: [string, string][] = [];
  const directory: Directory = {
    search(query) {
      searches.push(query);
      return Promise.resolve(
        query.filter === "(uid=alice)" ? [structuredClone(entry)] : [],
      );
    },
    userBind(dn, password) {
      binds.push([dn, password]);
      return Promise.resolve(password === "right");
    },
    close: () => Promise.resolve(),
  };
  return { directory, searches, binds };
}

function backend(env: Record<string, string>, entry?: Entry) {
  const fake = fakeDirectory(entry);
  const settings = readLdapSettings({
    CVM_LDAP_URI: "ldap://unused",
    CVM_LDAP_BASE: "dc=x",
    ...env,
  });
  return { ...fake, backend: ldapBackend(settings, fake.directory, () => {}) };
}

Deno.test("ldapBackend() searches with the escaped name and binds as the DN found, with the password as sent", async () => {
  const { backend: b, searches, binds } = backend({});
  assertEquals((await ask(b, "alice", "right")).code, 0);
  assertEquals((await ask(b, "al*ce", "right")).code, 100);
  assertEquals(searches.map((s) => s.filter), [
    "(uid=alice)",
    "(uid=al\\2ace)",
  ]);
  assertEquals(searches[0].attributes.includes("userPassword"), true);
  assertEquals(searches[0].sizeLimit, 2);
  assertEquals(binds, [["uid=alice,ou=people,dc=x", "right"]]);
});

Deno.test("ldapBackend() never asks the directory about an empty name, one with a NUL, or one that is not UTF-8", async () => {
  const { backend: b, searches } = backend({ CVM_LDAP_OUTOFSCOPE: "1" });
  for (
    const name of [
      new Uint8Array([]),
      new Uint8Array([97, 0]),
      new Uint8Array([97, 0xff]),
    ]
  ) {
    const reply = await ask(b, name, "right");
    assertEquals([reply.code, reply.facts.outOfScope], [100, 1]);
  }
  const domain = await ask(b, "alice", "right", { domain: "x\0y" });
  assertEquals(domain.code, 100);
  assertEquals(searches, []);
});

Deno.test("ldapBackend() in bind mode never sends a lock mark, a password that is not UTF-8, or a password to a locked entry", async () => {
  const { backend: b, binds } = backend({});
  for (const password of ["*", "!", "!!", "*!*"]) {
    assertEquals((await ask(b, "alice", password)).code, 100, password);
  }
  assertEquals(
    (await ask(b, "alice", new Uint8Array([0xe9, 0x74, 0xe9]))).code,
    100,
  );
  assertEquals(binds, []);
  const locked = backend({}, { ...ALICE, userPassword: "{CRYPT}!$6$x$y" });
  assertEquals((await ask(locked.backend, "alice", "right")).code, 100);
  assertEquals(locked.binds, []);
});

Deno.test("ldapBackend() in lookup mode asks for no userPassword and binds nobody", async () => {
  const { backend: b, searches, binds } = backend({ CVM_LOOKUP_SECRET: "" });
  const reply = await ask(b, "alice", undefined, { lookupSecret: "" });
  assertEquals([reply.code, reply.facts.username], [0, "alice"]);
  assertEquals(searches[0].attributes.includes("userPassword"), false);
  assertEquals(searches[0].binaryAttributes, []);
  assertEquals(binds, []);
});

Deno.test("ldapBackend() answers BAD_MODDATA for a uidNumber that is not a 32-bit decimal, only after the password is right", async () => {
  const { backend: b } = backend({}, { ...ALICE, uidNumber: "-5" });
  assertEquals((await ask(b, "alice", "wrong")).code, 100);
  assertEquals((await ask(b, "alice", "right")).code, 3);
});
