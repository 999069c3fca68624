/**
 * cvm-ldap against a real slapd started by the test: bind and compare
 * modes over every stored password form, locked entries, entries that are
 * no accounts, out-of-scope, lookup mode, filter injection, and the facts
 * compared field by field with what ldapsearch returns.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { ask, bindEnv, compareEnv, withBackend } from "./_ask.ts";
import {
  BASE,
  GROUPS,
  SEARCHER_DN,
  SEARCHER_PW,
  type Slapd,
  slapdAvailable,
  startSlapd,
  user,
  USERS,
} from "./_slapd.ts";

const available = slapdAvailable();
const options = {
  ignore: !available,
  // The npm client keeps sockets and timers between the steps.
  sanitizeOps: false,
  sanitizeResources: false,
};

/** Accounts whose password validates, each stored differently. */
const VALID = [
  "alice", // {SSHA}
  "bob", // {CRYPT} SHA-512
  "carol", // {CRYPT} yescrypt
  "sha", // {SHA}
  "md5", // {MD5}
  "smd5", // {SMD5}
  "ssha512", // {SSHA512}
  "clear", // plain text
  "od*d(1)\\x", // a name full of filter metacharacters
];

/** Reads ldapsearch's LDIF: attribute → values (base64 ones decoded). */
function parseLdif(text: string): Record<string, string[]> {
  const unfolded = text.replace(/\n /g, "");
  const out: Record<string, string[]> = {};
  for (const line of unfolded.split("\n")) {
    const match = /^([A-Za-z0-9-]+)(::?) ?(.*)$/.exec(line);
    if (!match) continue;
    const value = match[2] === "::"
      ? new TextDecoder().decode(
        Uint8Array.from(atob(match[3]), (c) => c.charCodeAt(0)),
      )
      : match[3];
    (out[match[1]] ??= []).push(value);
  }
  return out;
}

Deno.test({
  name: "cvm-ldap against a real slapd: passwords, lookups, facts",
  ...options,
  fn: async (t) => {
    const slapd: Slapd = await startSlapd();
    try {
      for (const persistent of [true, false]) {
        const mode = persistent ? "server mode" : "command mode";
        await t.step(
          `bind mode (${mode}) accepts every stored form slapd checks, and refuses a wrong password with out-of-scope 0`,
          () =>
            withBackend(bindEnv(slapd), persistent, async (backend) => {
              for (const uid of VALID) {
                const reply = await ask(backend, uid, user(uid).password);
                assertEquals(reply.code, 0, uid);
                assertEquals(reply.facts.username, uid);
                const wrong = await ask(backend, uid, user(uid).password + "x");
                assertEquals(
                  [wrong.code, wrong.facts.outOfScope],
                  [100, 0],
                  uid,
                );
              }
            }),
        );
        await t.step(
          `compare mode (${mode}) verifies every stored form itself, and refuses a wrong password with out-of-scope 0`,
          () =>
            withBackend(compareEnv(slapd), persistent, async (backend) => {
              for (const uid of VALID) {
                const reply = await ask(backend, uid, user(uid).password);
                assertEquals(reply.code, 0, uid);
                const wrong = await ask(backend, uid, user(uid).password + "x");
                assertEquals(
                  [wrong.code, wrong.facts.outOfScope],
                  [100, 0],
                  uid,
                );
              }
            }),
        );
      }

      await t.step(
        "concurrent requests in server mode each get their own answer: one user's bind never shows in another's",
        async () => {
          for (const env of [bindEnv(slapd), compareEnv(slapd)]) {
            await withBackend(env, true, async (backend) => {
              const uids = ["alice", "bob", "carol", "sha", "clear", "md5"];
              const requests = Array.from({ length: 96 }, (_, i) => {
                const uid = uids[i % uids.length];
                const right = i % 3 !== 0;
                return {
                  uid,
                  right,
                  password: right ? user(uid).password : "no",
                };
              });
              const replies = await Promise.all(
                requests.map((r) => ask(backend, r.uid, r.password)),
              );
              for (const [i, reply] of replies.entries()) {
                const { uid, right } = requests[i];
                assertEquals(reply.code, right ? 0 : 100, `${i} ${uid}`);
                if (right) assertEquals(reply.facts.username, uid);
              }
            });
          }
        },
      );

      await t.step(
        'a locked entry never validates: {CRYPT}! (slapd refuses the bind) and a cleartext "*" (slapd would accept it)',
        async () => {
          for (
            const env of [
              bindEnv(slapd),
              { ...compareEnv(slapd), CVM_LDAP_AUTH: "bind" },
              compareEnv(slapd),
            ]
          ) {
            await withBackend(env, true, async (backend) => {
              for (const uid of ["dave", "stan"]) {
                const reply = await ask(backend, uid, user(uid).password);
                assertEquals([reply.code, reply.facts.outOfScope], [100, 0]);
              }
              // "!" and "!!" are lock marks too, never passwords.
              assertEquals((await ask(backend, "stan", "!")).code, 100);
            });
          }
        },
      );

      await t.step(
        "an account not found is 100 with out-of-scope 0, or 1 with CVM_LDAP_OUTOFSCOPE=1",
        async () => {
          await withBackend(bindEnv(slapd), true, async (backend) => {
            const reply = await ask(backend, "nobody", "x");
            assertEquals([reply.code, reply.facts.outOfScope], [100, 0]);
          });
          await withBackend(
            { ...bindEnv(slapd), CVM_LDAP_OUTOFSCOPE: "1" },
            true,
            async (backend) => {
              const missing = await ask(backend, "nobody", "x");
              assertEquals([missing.code, missing.facts.outOfScope], [100, 1]);
              // Found and refused stays in scope.
              const wrong = await ask(backend, "alice", "x");
              assertEquals([wrong.code, wrong.facts.outOfScope], [100, 0]);
            },
          );
        },
      );

      await t.step(
        "an entry without uidNumber is no account (answered as not found, before any password check); CVM_LDAP_MAP literals make it one",
        async () => {
          for (const env of [bindEnv(slapd), compareEnv(slapd)]) {
            await withBackend(
              { ...env, CVM_LDAP_OUTOFSCOPE: "1" },
              true,
              async (backend) => {
                const reply = await ask(backend, "erin", "erin-pw");
                assertEquals([reply.code, reply.facts.outOfScope], [100, 1]);
              },
            );
          }
          await withBackend(
            {
              ...bindEnv(slapd),
              CVM_LDAP_MAP:
                "userid==5000, groupid==5000, directory==/var/vmail",
            },
            true,
            async (backend) => {
              const reply = await ask(backend, "erin", "erin-pw");
              assertEquals(reply.code, 0);
              assertEquals(
                [
                  reply.facts.userid,
                  reply.facts.groupid,
                  reply.facts.directory,
                ],
                [5000, 5000, "/var/vmail"],
              );
              assertEquals((await ask(backend, "erin", "nope")).code, 100);
            },
          );
        },
      );

      await t.step(
        "a name matched by two entries is refused, even with the right password",
        () =>
          withBackend(bindEnv(slapd), true, async (backend) => {
            assertEquals((await ask(backend, "twin", "twin-pw")).code, 100);
          }),
      );

      await t.step(
        "filter injection cannot widen the search: *, alic*, )(uid=*, \\2a and friends find nothing",
        async () => {
          for (const env of [bindEnv(slapd), compareEnv(slapd)]) {
            await withBackend(env, true, async (backend) => {
              for (
                const name of [
                  "*",
                  "alic*",
                  "*lice",
                  "\\2a",
                  "alic\\2a",
                  ")(uid=*",
                  "alice)(uid=*",
                  "x)(|(uid=alice",
                  "*)(|(uid=*",
                  "alice\\",
                  "od*d(1)\\2a",
                ]
              ) {
                const reply = await ask(backend, name, "alice-pw");
                assertEquals(reply.code, 100, name);
                assertEquals(reply.facts.outOfScope, 0, name);
              }
              // The same filter finds the odd name by its exact spelling.
              const odd = await ask(backend, "od*d(1)\\x", "odd-pw");
              assertEquals(odd.code, 0);
            });
          }
        },
      );

      await t.step(
        "a name with a NUL or bytes that are not UTF-8 is rejected without a search, an empty or missing password is NOCRED (7), a non-UTF-8 password is refused",
        () =>
          withBackend(bindEnv(slapd), true, async (backend) => {
            const nul = await ask(
              backend,
              new Uint8Array([97, 108, 105, 99, 101, 0]),
              "alice-pw",
            );
            assertEquals(nul.code, 100);
            // "moji" then a byte that is no UTF-8 is not "moji\ufffd".
            const latin1Name = await ask(
              backend,
              new Uint8Array([109, 111, 106, 105, 0xff]),
              "moji-pw",
            );
            assertEquals(latin1Name.code, 100);
            assertEquals((await ask(backend, "moji\ufffd", "moji-pw")).code, 0);
            assertEquals((await ask(backend, "alice", undefined)).code, 7);
            assertEquals((await ask(backend, "alice", "")).code, 7);
            const latin1 = await ask(
              backend,
              "alice",
              new Uint8Array([0xe9, 0x74, 0xe9]),
            );
            assertEquals(latin1.code, 100);
          }),
      );

      await t.step(
        "lookup mode searches only: facts without a password, locked entries included; a wrong secret is NOCRED",
        async () => {
          await withBackend(
            { ...bindEnv(slapd), CVM_LOOKUP_SECRET: "" },
            true,
            async (backend) => {
              const alice = await ask(backend, "alice", undefined, {
                lookupSecret: "",
              });
              assertEquals([alice.code, alice.facts.userid], [0, 1001]);
              const dave = await ask(backend, "dave", undefined, {
                lookupSecret: "",
              });
              assertEquals(dave.code, 0);
              const nobody = await ask(backend, "nobody", undefined, {
                lookupSecret: "",
              });
              assertEquals(nobody.code, 100);
            },
          );
          await withBackend(
            { ...bindEnv(slapd), CVM_LOOKUP_SECRET: "s3cret" },
            true,
            async (backend) => {
              const right = await ask(backend, "alice", undefined, {
                lookupSecret: "s3cret",
              });
              assertEquals(right.code, 0);
              const wrong = await ask(backend, "alice", undefined, {
                lookupSecret: "s3cret",
                secret: "guess",
              });
              assertEquals(wrong.code, 7);
            },
          );
        },
      );

      await t.step(
        "the default facts are, field by field, what ldapsearch returns",
        () =>
          withBackend(bindEnv(slapd), true, async (backend) => {
            for (const uid of ["alice", "bob", "carol", "clear"]) {
              const ldif = parseLdif(
                await slapd.ldapsearch(
                  ["-b", BASE, `(uid=${uid})`],
                  [SEARCHER_DN, SEARCHER_PW],
                ),
              );
              const reply = await ask(backend, uid, user(uid).password);
              assertEquals(reply.code, 0);
              const mail = ldif.mail?.[0];
              assertEquals(
                {
                  username: reply.facts.username,
                  userid: reply.facts.userid,
                  groupid: reply.facts.groupid,
                  directory: reply.facts.directory,
                  realname: reply.facts.realname,
                  shell: reply.facts.shell,
                  domain: reply.facts.domain,
                },
                {
                  username: ldif.uid[0],
                  userid: Number(ldif.uidNumber[0]),
                  groupid: Number(ldif.gidNumber[0]),
                  directory: ldif.homeDirectory[0],
                  realname: ldif.cn[0],
                  shell: ldif.loginShell?.[0],
                  domain: mail?.slice(mail.lastIndexOf("@") + 1),
                },
                uid,
              );
              // The searcher never sees a hash, and neither does a reply.
              assert(!("userPassword" in ldif));
            }
          }),
      );

      await t.step(
        "CVM_LDAP_MAP overrides single facts and leaves the others at their defaults",
        () =>
          withBackend(
            {
              ...bindEnv(slapd),
              CVM_LDAP_MAP: "mailbox=description,realname=sn,shell=",
            },
            true,
            async (backend) => {
              const reply = await ask(backend, "bob", "bob-pw");
              assertEquals(reply.code, 0);
              assertEquals(reply.facts.mailbox, "Maildir/");
              assertEquals(reply.facts.realname, "bob");
              assertEquals(reply.facts.shell, undefined);
              assertEquals(reply.facts.directory, "/home/bob");
              const alice = await ask(backend, "alice", "alice-pw");
              assertEquals(alice.facts.shell, undefined);
            },
          ),
      );

      await t.step(
        "supplementary groups come from the group search (memberUid by default, member with $dn)",
        async () => {
          await withBackend(
            { ...bindEnv(slapd), CVM_LDAP_GROUP_BASE: GROUPS },
            true,
            async (backend) => {
              // In the order the server sends them, which LDAP leaves open.
              const ids = async (uid: string) =>
                (await ask(backend, uid, user(uid).password)).facts
                  .suppGroupids?.sort();
              assertEquals(await ids("alice"), [200, 300]);
              assertEquals(await ids("bob"), [200]);
              assertEquals(await ids("carol"), undefined);
            },
          );
          await withBackend(
            {
              ...bindEnv(slapd),
              CVM_LDAP_GROUP_BASE: GROUPS,
              CVM_LDAP_GROUP_FILTER: "(member=$dn)",
            },
            true,
            async (backend) => {
              const bob = await ask(backend, "bob", "bob-pw");
              assertEquals(bob.facts.suppGroupids, [400]);
            },
          );
        },
      );

      await t.step(
        "CVM_LDAP_FILTER with $user@$domain finds the account by its mail address",
        () =>
          withBackend(
            { ...bindEnv(slapd), CVM_LDAP_FILTER: "(mail=$user@$domain)" },
            true,
            async (backend) => {
              const ok = await ask(backend, "bob", "bob-pw", {
                domain: "example.org",
              });
              assertEquals([ok.code, ok.facts.domain], [0, "example.org"]);
              const other = await ask(backend, "bob", "bob-pw", {
                domain: "example.com",
              });
              assertEquals(other.code, 100);
              const star = await ask(backend, "*", "bob-pw", {
                domain: "example.org",
              });
              assertEquals(star.code, 100);
            },
          ),
      );

      await t.step(
        "every fixture account is loaded (the directory is what the tests think)",
        async () => {
          const ldif = await slapd.ldapsearch(
            ["-b", BASE, "(objectClass=inetOrgPerson)", "dn"],
            [SEARCHER_DN, SEARCHER_PW],
          );
          assertEquals(ldif.match(/^dn:/gm)?.length, USERS.length);
        },
      );
    } finally {
      await slapd.close();
    }
  },
});
