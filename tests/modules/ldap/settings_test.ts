/**
 * cvm-ldap's settings: every variable read and checked at start, a bad
 * value a configuration error naming it; the URI list; the fact map.
 */
import {
  deepStrictEqual as assertEquals,
  throws as assertThrows,
} from "node:assert/strict";
import {
  DEFAULT_FACT_MAP,
  entryFacts,
  parseFactMap,
  parseLdapUris,
  readLdapSettings,
} from "../../../modules/ldap/mod.ts";
import { CvmError } from "../../../protocol/mod.ts";
import { tempDir } from "../../_helpers.ts";

const MINIMAL = { CVM_LDAP_URI: "ldap://ldap", CVM_LDAP_BASE: "dc=x" };

function configError(variable: string) {
  return (e: unknown) =>
    e instanceof CvmError && e.code === 6 && e.message.includes(`$${variable}`);
}

Deno.test("readLdapSettings() defaults: bind mode, sub scope, (uid=$account), 5 s, no TLS, in scope", () => {
  const s = readLdapSettings(MINIMAL);
  assertEquals(s.auth, "bind");
  assertEquals(s.scope, "sub");
  assertEquals(s.filter.parts, ["(uid=", { name: "account" }, ")"]);
  assertEquals(s.timeoutMs, 5000);
  assertEquals([s.startTls, s.ca, s.outOfScope, s.lookupMode], [
    false,
    undefined,
    false,
    false,
  ]);
  assertEquals([s.bindDn, s.bindPassword], [undefined, undefined]);
  assertEquals(s.map, DEFAULT_FACT_MAP);
  assertEquals(s.groups, undefined);
});

Deno.test("readLdapSettings() refuses each bad value with CONFIG naming its variable", () => {
  const dir = tempDir();
  try {
    const cases: [string, Record<string, string>][] = [
      ["CVM_LDAP_URI", { CVM_LDAP_URI: "" }],
      ["CVM_LDAP_URI", { CVM_LDAP_URI: "http://ldap" }],
      ["CVM_LDAP_URI", { CVM_LDAP_URI: "ldap://ldap/dc=x??sub" }],
      ["CVM_LDAP_URI", { CVM_LDAP_URI: "ldap://ldap:99999" }],
      ["CVM_LDAP_BASE", { CVM_LDAP_BASE: "" }],
      ["CVM_LDAP_SCOPE", { CVM_LDAP_SCOPE: "children" }],
      ["CVM_LDAP_AUTH", { CVM_LDAP_AUTH: "plain" }],
      ["CVM_LDAP_STARTTLS", { CVM_LDAP_STARTTLS: "yes" }],
      ["CVM_LDAP_OUTOFSCOPE", { CVM_LDAP_OUTOFSCOPE: "2" }],
      ["CVM_LDAP_TIMEOUT", { CVM_LDAP_TIMEOUT: "0" }],
      ["CVM_LDAP_TIMEOUT", { CVM_LDAP_TIMEOUT: "1e3" }],
      ["CVM_LDAP_TIMEOUT", { CVM_LDAP_TIMEOUT: "-1" }],
      ["CVM_LDAP_TIMEOUT", { CVM_LDAP_TIMEOUT: "5s" }],
      ["CVM_LDAP_CA", { CVM_LDAP_CA: `${dir.path}/missing.pem` }],
      ["CVM_LDAP_FILTER", { CVM_LDAP_FILTER: "(uid=$login)" }],
      ["CVM_LDAP_GROUP_FILTER", { CVM_LDAP_GROUP_FILTER: "(memberUid=$x)" }],
      ["CVM_LDAP_GROUP_SCOPE", {
        CVM_LDAP_GROUP_BASE: "ou=g",
        CVM_LDAP_GROUP_SCOPE: "deep",
      }],
      ["CVM_LDAP_MAP", { CVM_LDAP_MAP: "uid=uid" }],
      ["CVM_LDAP_MAP", { CVM_LDAP_MAP: "userid=" }],
      ["CVM_LDAP_MAP", { CVM_LDAP_MAP: "userid==abc" }],
      ["CVM_LDAP_MAP", { CVM_LDAP_MAP: "shell=login shell" }],
      ["CVM_LDAP_BINDPW", { CVM_LDAP_BINDPW: "pw" }],
      ["CVM_LDAP_BINDDN", { CVM_LDAP_BINDDN: "cn=cvm" }],
      ["CVM_LDAP_BINDPW_FILE", {
        CVM_LDAP_BINDDN: "cn=cvm",
        CVM_LDAP_BINDPW_FILE: `${dir.path}/missing`,
      }],
      ["CVM_LDAP_BINDPW", {
        CVM_LDAP_BINDDN: "cn=cvm",
        CVM_LDAP_BINDPW: "a",
        CVM_LDAP_BINDPW_FILE: "/etc/hostname",
      }],
    ];
    Deno.writeTextFileSync(`${dir.path}/not-pem`, "hello\n");
    cases.push(["CVM_LDAP_CA", { CVM_LDAP_CA: `${dir.path}/not-pem` }]);
    for (const [variable, env] of cases) {
      assertThrows(
        () => readLdapSettings({ ...MINIMAL, ...env }),
        configError(variable),
        `${variable}: ${JSON.stringify(env)}`,
      );
    }
  } finally {
    dir.cleanup();
  }
});

Deno.test("readLdapSettings() reads the service password from CVM_LDAP_BINDPW_FILE without its trailing newline, and never puts it in a message", () => {
  const dir = tempDir();
  try {
    Deno.writeTextFileSync(`${dir.path}/pw`, "s3cret pw\n");
    const s = readLdapSettings({
      ...MINIMAL,
      CVM_LDAP_BINDDN: "cn=cvm",
      CVM_LDAP_BINDPW_FILE: `${dir.path}/pw`,
    });
    assertEquals(s.bindPassword, "s3cret pw");
    assertEquals(s.bindPasswordVariable, "CVM_LDAP_BINDPW_FILE");
    Deno.writeTextFileSync(`${dir.path}/two`, "s3cret\nline two\n");
    assertThrows(
      () =>
        readLdapSettings({
          ...MINIMAL,
          CVM_LDAP_BINDDN: "cn=cvm",
          CVM_LDAP_BINDPW_FILE: `${dir.path}/two`,
        }),
      (e: unknown) =>
        e instanceof CvmError && e.code === 6 &&
        !e.message.includes("s3cret") && !e.message.includes("line two"),
    );
  } finally {
    dir.cleanup();
  }
});

Deno.test("readLdapSettings() reads fractions of seconds, scopes by ldap.conf's names, and the group search", () => {
  const s = readLdapSettings({
    ...MINIMAL,
    CVM_LDAP_TIMEOUT: "0.25",
    CVM_LDAP_SCOPE: "onelevel",
    CVM_LDAP_GROUP_FILTER: "(member=$dn)",
    CVM_LDAP_OUTOFSCOPE: "1",
    CVM_LDAP_STARTTLS: "1",
    CVM_LOOKUP_SECRET: "",
  });
  assertEquals(s.timeoutMs, 250);
  assertEquals(s.scope, "one");
  assertEquals(s.groups?.base, "dc=x");
  assertEquals(s.groups?.scope, "sub");
  assertEquals([s.outOfScope, s.startTls, s.lookupMode], [true, true, true]);
});

Deno.test("parseLdapUris() takes space-separated ldap://, ldaps:// and ldapi:// URIs in order", () => {
  assertEquals(
    parseLdapUris(
      "CVM_LDAP_URI",
      "  ldap://a ldaps://b:1636/\tLDAP://[::1]:389 ldapi://%2Frun%2Fslapd%2Fldapi ldapi:/// ldap:///",
    ),
    [
      { kind: "ldap", uri: "ldap://a", host: "a", port: 389 },
      { kind: "ldaps", uri: "ldaps://b:1636/", host: "b", port: 1636 },
      { kind: "ldap", uri: "LDAP://[::1]:389", host: "::1", port: 389 },
      {
        kind: "ldapi",
        uri: "ldapi://%2Frun%2Fslapd%2Fldapi",
        path: "/run/slapd/ldapi",
      },
      { kind: "ldapi", uri: "ldapi:///", path: "/var/run/slapd/ldapi" },
      { kind: "ldap", uri: "ldap:///", host: "localhost", port: 389 },
    ],
  );
});

Deno.test("parseFactMap() overrides single facts: an attribute, a literal (==), or none for an optional fact", () => {
  const map = parseFactMap(
    "CVM_LDAP_MAP",
    "mailbox=mailMessageStore, directory=homeDirectory,USERID==5000,shell=",
  );
  assertEquals(map.mailbox, { attribute: "mailMessageStore" });
  assertEquals(map.userid, { literal: "5000" });
  assertEquals(map.shell, undefined);
  assertEquals(map.username, DEFAULT_FACT_MAP.username);
});

Deno.test("entryFacts() reads attributes case-insensitively, the first value, and the domain after the last @", () => {
  const got = entryFacts({
    dn: "uid=bob,dc=x",
    UID: ["bob", "robert"],
    uidnumber: "1000",
    gidNumber: "100",
    homeDirectory: "/home/bob",
    cn: "Bob",
    mail: ["bob@lists@example.com", "b@other.org"],
  }, DEFAULT_FACT_MAP);
  assertEquals(got, {
    ok: true,
    facts: {
      username: "bob",
      userid: 1000,
      groupid: 100,
      directory: "/home/bob",
      realname: "Bob",
      domain: "example.com",
    },
  });
});

Deno.test("entryFacts() says which required attribute is missing, and which id is not a 32-bit decimal", () => {
  const base = {
    dn: "uid=bob,dc=x",
    uid: "bob",
    uidNumber: "1000",
    gidNumber: "100",
    homeDirectory: "/home/bob",
  };
  assertEquals(entryFacts({ ...base, uidNumber: [] }, DEFAULT_FACT_MAP), {
    ok: false,
    problem: "missing",
    attribute: "uidNumber",
  });
  assertEquals(entryFacts({ ...base, homeDirectory: "" }, DEFAULT_FACT_MAP), {
    ok: false,
    problem: "missing",
    attribute: "homeDirectory",
  });
  for (const bad of ["-5", "4294967296", "12a", "1.5"]) {
    assertEquals(entryFacts({ ...base, gidNumber: bad }, DEFAULT_FACT_MAP), {
      ok: false,
      problem: "invalid",
      attribute: "gidNumber",
    }, bad);
  }
});
