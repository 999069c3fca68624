import {
  getgrgid,
  getgrnam,
  getgrouplist,
  getpwnam,
  getpwuid,
  getspnam,
} from "../../sys/passwd.ts";
import { verifyCrypt } from "../../sys/crypt.ts";
import { assert, assertEquals } from "./_assert.ts";

const USER = "cvmsystest";
// More groups than getgrouplist()'s first 64-entry guess, to exercise growth.
const GROUPS = Array.from({ length: 70 }, (_, i) => `cvmsystestg${i}`);
const PASSWORD = "Pässwörd:1";
// Longer than the first 1024-byte buffer, so the ERANGE retry is exercised.
const GECOS = "Jürgen Tëst," + "x".repeat(3000);

// Runs a command to completion, failing the test if it fails.
async function run(cmd: string, args: string[], stdin?: string) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stderr } = await child.output();
  assert(
    code === 0,
    `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`,
  );
}

// Removes leftovers of an interrupted earlier run; failures mean "not there".
async function removeAccount() {
  for (
    const [cmd, name] of [
      ["userdel", USER],
      ...GROUPS.map((g) => ["groupdel", g]),
    ]
  ) {
    await new Deno.Command(cmd, {
      args: [name],
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

Deno.test("passwd lookups through NSS on root and on a fresh account cvmsystest", async (t) => {
  await removeAccount();
  for (const group of GROUPS) await run("groupadd", [group]);
  await run("useradd", [
    "-c",
    GECOS,
    "-d",
    "/nonexistent/cvmsystest",
    "-s",
    "/bin/false",
    "-G",
    GROUPS.join(","),
    USER,
  ]);
  await run("chpasswd", ["-c", "YESCRYPT"], `${USER}:${PASSWORD}\n`);
  try {
    await t.step("getpwnam(root) returns uid 0, gid 0, /root", () => {
      const root = getpwnam("root");
      assertEquals(
        root &&
          { name: root.name, uid: root.uid, gid: root.gid, dir: root.dir },
        { name: "root", uid: 0, gid: 0, dir: "/root" },
      );
    });

    await t.step(
      "getpwnam() parses every field, decoding UTF-8 and growing the buffer past 1 KiB",
      () => {
        const entry = getpwnam(USER);
        assert(entry !== undefined, "cvmsystest not found");
        assertEquals(entry.name, USER);
        assertEquals(entry.passwd, "x");
        assertEquals(entry.gecos, GECOS);
        assertEquals(entry.dir, "/nonexistent/cvmsystest");
        assertEquals(entry.shell, "/bin/false");
        assert(entry.uid > 0 && entry.gid > 0, "ids not parsed");
      },
    );

    await t.step("getpwuid() finds the same entry as getpwnam()", () => {
      const entry = getpwnam(USER)!;
      assertEquals(getpwuid(entry.uid), entry);
      assertEquals(getpwuid(0)?.name, "root");
    });

    await t.step(
      "getspnam() returns the $y$ hash chpasswd stored and verifyCrypt() accepts the password",
      async () => {
        const hash = getspnam(USER);
        assert(hash?.startsWith("$y$") === true, `not yescrypt: ${hash}`);
        assert(
          await verifyCrypt(new TextEncoder().encode(PASSWORD), hash),
          "password rejected",
        );
        assert(
          !(await verifyCrypt(new TextEncoder().encode("Passwort:1"), hash)),
          "wrong password accepted",
        );
      },
    );

    await t.step("getgrnam() and getgrgid() agree on the new groups", () => {
      for (const name of GROUPS) {
        const group = getgrnam(name);
        assert(group !== undefined, `${name} not found`);
        assertEquals(getgrgid(group.gid), { name, gid: group.gid });
      }
      assertEquals(getgrgid(0), { name: "root", gid: 0 });
    });

    await t.step(
      "getgrouplist() puts the primary gid first, then all 70 supplementary groups",
      () => {
        const entry = getpwnam(USER)!;
        const supplementary = GROUPS.map((g) => getgrnam(g)!.gid);
        const list = getgrouplist(USER, entry.gid);
        assertEquals(list[0], entry.gid);
        const numeric = (a: number, b: number) => a - b;
        assertEquals(list.slice(1).sort(numeric), supplementary.sort(numeric));
      },
    );
  } finally {
    await removeAccount();
  }
  assertEquals(getpwnam(USER), undefined);
});

Deno.test("lookups of missing names and ids return undefined", () => {
  assertEquals(getpwnam("cvm-no-such-user"), undefined);
  assertEquals(getpwuid(3999999999), undefined);
  assertEquals(getspnam("cvm-no-such-user"), undefined);
  assertEquals(getgrnam("cvm-no-such-group"), undefined);
  assertEquals(getgrgid(3999999999), undefined);
  assertEquals(getpwnam(""), undefined);
});

Deno.test("a name containing NUL matches nothing instead of its prefix", () => {
  assertEquals(getpwnam("root\0junk"), undefined);
  assertEquals(getspnam("root\0junk"), undefined);
  assertEquals(getgrnam("root\0junk"), undefined);
});

Deno.test("getgrouplist() of an unknown user is just the given gid", () => {
  assertEquals(getgrouplist("cvm-no-such-user", 4242), [4242]);
});
