/**
 * A throwaway OpenLDAP server for the cvm-ldap tests: its own slapd.conf,
 * mdb database, CA and certificates in a temporary directory, listening on
 * loopback ports (plain, ldaps) and a local socket, started and stopped by
 * the test (never any system slapd). The accounts are loaded with
 * `ldapadd`, their passwords made by `slappasswd` and `mkpasswd`.
 *
 * @module
 */

import { run } from "../../_helpers.ts";

/** Where Debian puts the server and the tools the fixture needs. */
export const SLAPD = "/usr/sbin/slapd";
const SLAPPASSWD = "/usr/sbin/slappasswd";
const LDAPADD = "/usr/bin/ldapadd";
const LDAPSEARCH = "/usr/bin/ldapsearch";
const MKPASSWD = "/usr/bin/mkpasswd";
const OPENSSL = "/usr/bin/openssl";

/** The tools the fixture runs; a test skips unless all are there. */
export const SLAPD_TOOLS = [
  SLAPD,
  SLAPPASSWD,
  LDAPADD,
  LDAPSEARCH,
  MKPASSWD,
  OPENSSL,
] as const;

/** The directory's suffix. */
export const BASE = "dc=example,dc=com";
/** Where the people are. */
export const PEOPLE = `ou=people,${BASE}`;
/** Where the groups are. */
export const GROUPS = `ou=groups,${BASE}`;
/** The rootdn, which loads the data. */
export const ADMIN_DN = `cn=admin,${BASE}`;
/** The rootdn's password. */
export const ADMIN_PW = "admin-secret";
/** A service account that may read userPassword (compare mode). */
export const READER_DN = `cn=cvm,${BASE}`;
/** Its password. */
export const READER_PW = "cvm-service-pw";
/**
 * A service account that may search but never read userPassword (bind
 * mode). The people are hidden from everyone else but themselves, so a
 * search that ran as a user instead of a service account would find
 * nobody.
 */
export const SEARCHER_DN = `cn=searcher,${BASE}`;
/** Its password. */
export const SEARCHER_PW = "searcher-pw";

/** A test account and how its password is stored. */
export interface TestUser {
  /** The uid (the account name). */
  uid: string;
  /** The password that validates (or would, were the entry not locked). */
  password: string;
  /** How userPassword is made. */
  store:
    | "ssha"
    | "crypt-sha512"
    | "yescrypt"
    | "locked-crypt"
    | "star"
    | "sha"
    | "md5"
    | "smd5"
    | "ssha512"
    | "cleartext";
  /** Extra LDIF lines (object classes come from `posix`). */
  posix: boolean;
  /** Lines after the object classes. */
  attributes: string[];
  /** The entry's OU (default people). */
  ou?: string;
}

/** Every account the fixture loads. */
export const USERS: readonly TestUser[] = [
  {
    uid: "alice",
    password: "alice-pw",
    store: "ssha",
    posix: true,
    attributes: [
      "cn: Alice Example",
      "uidNumber: 1001",
      "gidNumber: 100",
      "homeDirectory: /home/alice",
      "loginShell: /bin/bash",
      "mail: alice@example.com",
    ],
  },
  {
    uid: "bob",
    password: "bob-pw",
    store: "crypt-sha512",
    posix: true,
    attributes: [
      "cn: Bob Builder",
      "uidNumber: 1002",
      "gidNumber: 100",
      "homeDirectory: /home/bob",
      "mail: bob@example.org",
      "description: Maildir/",
    ],
  },
  {
    uid: "carol",
    password: "carol-pw",
    store: "yescrypt",
    posix: true,
    attributes: [
      "cn: Carol",
      "uidNumber: 1003",
      "gidNumber: 101",
      "homeDirectory: /home/carol",
      "loginShell: /bin/sh",
    ],
  },
  {
    uid: "dave",
    password: "dave-pw",
    store: "locked-crypt",
    posix: true,
    attributes: [
      "cn: Dave Locked",
      "uidNumber: 1004",
      "gidNumber: 100",
      "homeDirectory: /home/dave",
    ],
  },
  {
    // A cleartext "*": slapd itself would accept "*" as the password.
    uid: "stan",
    password: "*",
    store: "star",
    posix: true,
    attributes: [
      "cn: Stan Star",
      "uidNumber: 1005",
      "gidNumber: 100",
      "homeDirectory: /home/stan",
    ],
  },
  {
    // inetOrgPerson only: no uidNumber, gidNumber or homeDirectory.
    uid: "erin",
    password: "erin-pw",
    store: "ssha",
    posix: false,
    attributes: ["cn: Erin Nouid", "mail: erin@example.com"],
  },
  {
    uid: "sha",
    password: "sha-pw",
    store: "sha",
    posix: true,
    attributes: [
      "cn: Sha",
      "uidNumber: 1010",
      "gidNumber: 100",
      "homeDirectory: /home/sha",
    ],
  },
  {
    uid: "md5",
    password: "md5-pw",
    store: "md5",
    posix: true,
    attributes: [
      "cn: Md5",
      "uidNumber: 1011",
      "gidNumber: 100",
      "homeDirectory: /home/md5",
    ],
  },
  {
    uid: "smd5",
    password: "smd5-pw",
    store: "smd5",
    posix: true,
    attributes: [
      "cn: Smd5",
      "uidNumber: 1012",
      "gidNumber: 100",
      "homeDirectory: /home/smd5",
    ],
  },
  {
    uid: "ssha512",
    password: "ssha512-pw",
    store: "ssha512",
    posix: true,
    attributes: [
      "cn: Ssha512",
      "uidNumber: 1013",
      "gidNumber: 100",
      "homeDirectory: /home/ssha512",
    ],
  },
  {
    uid: "clear",
    password: "clear-pw",
    store: "cleartext",
    posix: true,
    attributes: [
      "cn: Clear",
      "uidNumber: 1014",
      "gidNumber: 100",
      "homeDirectory: /home/clear",
    ],
  },
  {
    // A name full of filter metacharacters, found only by its exact name.
    uid: "od*d(1)\\x",
    password: "odd-pw",
    store: "ssha",
    posix: true,
    attributes: [
      "cn: Odd Name",
      "uidNumber: 1020",
      "gidNumber: 100",
      "homeDirectory: /home/odd",
    ],
  },
  {
    // U+FFFD, what bytes that are not UTF-8 would decode to.
    uid: "moji\ufffd",
    password: "moji-pw",
    store: "ssha",
    posix: true,
    attributes: [
      "cn: Moji",
      "uidNumber: 1021",
      "gidNumber: 100",
      "homeDirectory: /home/moji",
    ],
  },
  {
    uid: "twin",
    password: "twin-pw",
    store: "ssha",
    posix: true,
    attributes: [
      "cn: Twin One",
      "uidNumber: 1030",
      "gidNumber: 100",
      "homeDirectory: /home/twin1",
    ],
  },
  {
    uid: "twin",
    password: "twin-pw",
    store: "ssha",
    posix: true,
    ou: "others",
    attributes: [
      "cn: Twin Two",
      "uidNumber: 1031",
      "gidNumber: 100",
      "homeDirectory: /home/twin2",
    ],
  },
];

/** The account by uid (the first one with it). */
export function user(uid: string): TestUser {
  const found = USERS.find((u) => u.uid === uid);
  if (!found) throw new Error(`no test user ${uid}`);
  return found;
}

/** The DN of a test account. */
export function userDn(u: TestUser): string {
  return `uid=${escapeDnValue(u.uid)},ou=${u.ou ?? "people"},${BASE}`;
}

/** RFC 4514 escaping of an attribute value in a DN (what the fixture needs). */
function escapeDnValue(value: string): string {
  return value.replace(/[\\,+"<>;=]/g, (c) => "\\" + c);
}

/** A running test slapd. */
export interface Slapd {
  /** The temporary directory holding everything. */
  dir: string;
  /** `ldap://127.0.0.1:PORT`. */
  uri: string;
  /** `ldaps://127.0.0.1:PORT`. */
  ldapsUri: string;
  /** `ldaps://localhost:PORT` (the certificate names both). */
  ldapsLocalhostUri: string;
  /** `ldapi://` with the socket path. */
  ldapiUri: string;
  /** The CA that signed the server's certificate (PEM file). */
  caPath: string;
  /** Another CA, which did not. */
  otherCaPath: string;
  /** The slapd process id. */
  pid(): number;
  /** Whether slapd is running. */
  running(): boolean;
  /** Stops slapd (SIGTERM) and waits for it. */
  stop(): Promise<void>;
  /** Starts slapd again on the same ports and database. */
  start(): Promise<void>;
  /** SIGSTOP: slapd hangs, its sockets stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Runs ldapsearch against this slapd; returns its LDIF output. */
  ldapsearch(args: string[], bind?: [string, string]): Promise<string>;
  /** Adds entries with ldapadd as the rootdn. */
  ldapadd(ldif: string): Promise<void>;
  /** Stops slapd and removes the directory. */
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
async function freeTcpPort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Promise.resolve();
  return port;
}

/** An environment for the OpenLDAP tools that ignores the machine's ldap.conf. */
function toolEnv(dir: string, ca: string): Record<string, string> {
  return {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: dir,
    LDAPCONF: "/dev/null",
    LDAPTLS_CACERT: ca,
  };
}

async function must(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<string> {
  const out = await run(cmd, args, {
    env: options.env,
    clearEnv: options.env !== undefined,
    stdin: options.stdin === undefined
      ? undefined
      : new TextEncoder().encode(options.stdin),
  });
  if (out.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${out.code}): ${out.stderr}`,
    );
  }
  return out.stdout;
}

/**
 * A userPassword value as OpenLDAP's slappasswd makes it (with the SHA-2
 * schemes loaded).
 *
 * @param scheme E.g. `{SSHA}`.
 * @param password The password.
 * @param extra More slappasswd options (e.g. `-c` with a crypt salt format).
 */
export async function slappasswd(
  scheme: string,
  password: string,
  ...extra: string[]
): Promise<string> {
  return (await must(SLAPPASSWD, [
    "-o",
    "module-path=/usr/lib/ldap",
    "-o",
    "module-load=pw-sha2",
    "-h",
    scheme,
    ...extra,
    "-s",
    password,
  ])).trim();
}

/** A yescrypt crypt(3) hash of the password, as whois's mkpasswd makes it. */
export async function mkpasswdYescrypt(password: string): Promise<string> {
  return (await must(MKPASSWD, ["-m", "yescrypt", password])).trim();
}

/** userPassword for a stored form, made by the OpenLDAP and whois tools. */
async function storedPassword(u: TestUser): Promise<string> {
  switch (u.store) {
    case "ssha":
      return await slappasswd("{SSHA}", u.password);
    case "sha":
      return await slappasswd("{SHA}", u.password);
    case "md5":
      return await slappasswd("{MD5}", u.password);
    case "smd5":
      return await slappasswd("{SMD5}", u.password);
    case "ssha512":
      return await slappasswd("{SSHA512}", u.password);
    case "crypt-sha512":
      return await slappasswd("{CRYPT}", u.password, "-c", "$6$%.16s");
    case "yescrypt":
      return "{CRYPT}" + await mkpasswdYescrypt(u.password);
    case "locked-crypt": {
      const crypt = await slappasswd("{CRYPT}", u.password, "-c", "$6$%.16s");
      return crypt.replace("{CRYPT}", "{CRYPT}!");
    }
    case "star":
      return "*";
    case "cleartext":
      return u.password;
  }
}

/** The LDIF of the whole directory. */
async function directoryLdif(): Promise<string> {
  const entries: string[] = [
    [
      `dn: ${BASE}`,
      "objectClass: dcObject",
      "objectClass: organization",
      "dc: example",
      "o: Example",
    ].join("\n"),
    ...[[READER_DN, "cvm", READER_PW], [SEARCHER_DN, "searcher", SEARCHER_PW]]
      .map(([dn, cn, pw]) =>
        [
          `dn: ${dn}`,
          "objectClass: simpleSecurityObject",
          "objectClass: organizationalRole",
          `cn: ${cn}`,
          `userPassword: ${pw}`,
        ].join("\n")
      ),
    ...["people", "others", "groups"].map((ou) =>
      [
        `dn: ou=${ou},${BASE}`,
        "objectClass: organizationalUnit",
        `ou: ${ou}`,
      ].join("\n")
    ),
  ];
  for (const u of USERS) {
    const stored = await storedPassword(u);
    entries.push([
      `dn: ${userDn(u)}`,
      "objectClass: inetOrgPerson",
      ...(u.posix ? ["objectClass: posixAccount"] : []),
      `uid: ${u.uid}`,
      `sn: ${u.uid}`,
      ...u.attributes,
      // Base64 so that "*" and friends go in as they are.
      `userPassword:: ${btoa(stored)}`,
    ].join("\n"));
  }
  entries.push(
    [
      `dn: cn=staff,${GROUPS}`,
      "objectClass: posixGroup",
      "cn: staff",
      "gidNumber: 200",
      "memberUid: alice",
      "memberUid: bob",
    ].join("\n"),
    [
      `dn: cn=devs,${GROUPS}`,
      "objectClass: posixGroup",
      "cn: devs",
      "gidNumber: 300",
      "memberUid: alice",
    ].join("\n"),
    [
      `dn: cn=ops,${GROUPS}`,
      "objectClass: groupOfNames",
      "objectClass: extensibleObject",
      "cn: ops",
      "gidNumber: 400",
      `member: ${userDn(user("bob"))}`,
    ].join("\n"),
  );
  return entries.join("\n\n") + "\n";
}

/** Makes a CA, a server certificate for localhost and 127.0.0.1, and another CA. */
async function makeCertificates(dir: string): Promise<void> {
  const ssl = (args: string[]) => must(OPENSSL, args);
  for (const ca of ["ca", "other-ca"]) {
    await ssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${dir}/${ca}.key`,
      "-out",
      `${dir}/${ca}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=cvm-ldap test ${ca}`,
    ]);
  }
  await ssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${dir}/server.key`,
    "-out",
    `${dir}/server.csr`,
    "-subj",
    "/CN=localhost",
  ]);
  Deno.writeTextFileSync(
    `${dir}/server.ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await ssl([
    "x509",
    "-req",
    "-in",
    `${dir}/server.csr`,
    "-CA",
    `${dir}/ca.pem`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-out",
    `${dir}/server.pem`,
    "-days",
    "2",
    "-extfile",
    `${dir}/server.ext`,
  ]);
}

function slapdConf(dir: string): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload pw-sha2
TLSCACertificateFile ${dir}/ca.pem
TLSCertificateFile ${dir}/server.pem
TLSCertificateKeyFile ${dir}/server.key
database mdb
maxsize 33554432
index objectClass,uid,memberUid eq
suffix "${BASE}"
rootdn "${ADMIN_DN}"
rootpw ${ADMIN_PW}
directory ${dir}/db
access to attrs=userPassword
  by dn.exact="${READER_DN}" read
  by anonymous auth
  by * none
access to filter=(objectClass=inetOrgPerson)
  by dn.exact="${READER_DN}" read
  by dn.exact="${SEARCHER_DN}" read
  by self read
  by * none
access to * by * read
`;
}

/**
 * Whether slapd and the tools are installed; when not, a line saying so,
 * or a failure with `CVM_TEST_REQUIRE_SERVICES=1`.
 *
 * @returns True when the fixture can run.
 */
export function slapdAvailable(): boolean {
  for (const path of SLAPD_TOOLS) {
    try {
      Deno.statSync(path);
    } catch {
      if (Deno.env.get("CVM_TEST_REQUIRE_SERVICES") === "1") {
        throw new Error(`${path} is required (CVM_TEST_REQUIRE_SERVICES=1)`);
      }
      console.log(
        `skip: ${path} is not installed (apt-get install slapd ldap-utils whois openssl)`,
      );
      return false;
    }
  }
  return true;
}

/**
 * Starts a throwaway slapd with the test directory loaded.
 *
 * @returns The running server.
 */
export async function startSlapd(): Promise<Slapd> {
  const dir = Deno.makeTempDirSync({ prefix: "cvm-slapd-" });
  Deno.mkdirSync(`${dir}/db`);
  await makeCertificates(dir);
  Deno.writeTextFileSync(`${dir}/slapd.conf`, slapdConf(dir));
  const port = await freeTcpPort();
  const tlsPort = await freeTcpPort();
  const socket = `${dir}/ldapi`;
  const uri = `ldap://127.0.0.1:${port}`;
  const ldapsUri = `ldaps://127.0.0.1:${tlsPort}`;
  const ldapiUri = `ldapi://${encodeURIComponent(socket)}`;
  const env = toolEnv(dir, `${dir}/ca.pem`);
  let child: Deno.ChildProcess | undefined;
  let exited = true;
  const start = async () => {
    // -d 0: stay in the foreground (a child the test owns), log nothing.
    child = new Deno.Command(SLAPD, {
      args: [
        "-f",
        `${dir}/slapd.conf`,
        "-h",
        `${uri}/ ${ldapsUri}/ ${ldapiUri}`,
        "-d",
        "0",
      ],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    exited = false;
    const status = child.status.then(() => exited = true);
    for (let i = 0; i < 200; i++) {
      if (exited) {
        await status;
        throw new Error(`slapd exited at start (config in ${dir})`);
      }
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        (await Deno.connect({ hostname: "127.0.0.1", port: tlsPort })).close();
        Deno.statSync(socket);
        return;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("slapd did not start listening");
  };
  const stop = async () => {
    if (child === undefined || exited) return;
    try {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  };
  await start();
  const bindArgs = (bind?: [string, string]) =>
    bind ? ["-x", "-D", bind[0], "-w", bind[1]] : ["-x"];
  const slapd: Slapd = {
    dir,
    uri,
    ldapsUri,
    ldapsLocalhostUri: `ldaps://localhost:${tlsPort}`,
    ldapiUri,
    caPath: `${dir}/ca.pem`,
    otherCaPath: `${dir}/other-ca.pem`,
    pid: () => child!.pid,
    running: () => !exited,
    stop,
    start,
    pause: () => child!.kill("SIGSTOP"),
    resume: () => child!.kill("SIGCONT"),
    ldapsearch: (args, bind) =>
      must(LDAPSEARCH, ["-H", uri, "-LLL", ...bindArgs(bind), ...args], {
        env,
      }),
    ldapadd: async (ldif) => {
      await must(LDAPADD, ["-H", uri, ...bindArgs([ADMIN_DN, ADMIN_PW])], {
        env,
        stdin: ldif,
      });
    },
    close: async () => {
      await stop();
      Deno.removeSync(dir, { recursive: true });
    },
  };
  try {
    await slapd.ldapadd(await directoryLdif());
  } catch (e) {
    await slapd.close();
    throw e;
  }
  return slapd;
}
