/**
 * The accounts and the request scenarios shared by the PostgreSQL and MySQL
 * tests: each is run through the reference's `cvm-testclient` against our
 * module and against Debian's, with the same table and environment.
 *
 * @module
 */

import type { AccountRow } from "./_helpers.ts";

/** The password of the crypt-stored account `carol`. */
export const CRYPT_PASSWORD = "crypt pw";

/** The two injection names the issue names. */
export const INJECTION_QUOTE = "x' OR '1'='1";
/** An injection name aimed at `accounts`, with the backslash MySQL escapes. */
export const INJECTION_DROP = "\\'; DROP TABLE accounts; --";

/**
 * The accounts table's rows.
 *
 * @param cryptHash A crypt(3) hash of {@linkcode CRYPT_PASSWORD}.
 */
export function accountRows(cryptHash: string): AccountRow[] {
  const base = (
    username: string,
    domain: string,
    password: string | null,
    userid: string | null,
    directory: string | null,
    extra: Partial<AccountRow> = {},
  ): AccountRow => ({
    username,
    domain,
    password,
    userid,
    groupid: "100",
    directory,
    ...extra,
  });
  return [
    base("bob", "", "secret", "1000", "/home/bob", {
      realname: "Bob Builder",
      shell: "/bin/sh",
      groupname: "users",
      sys_username: "sysbob",
      sys_directory: "/var/sys/bob",
      mailbox: "Maildir/",
    }),
    base("nul", "", "secret", "1001", "/home/nul"),
    base("emp", "", "secret", "1002", "/home/emp", {
      realname: "",
      shell: "",
      groupname: "",
      sys_username: "",
      sys_directory: "",
      mailbox: "",
    }),
    base("alice", "example.com", "pw-com", "2001", "/home/alice-com", {
      realname: "Alice at com",
    }),
    base("alice", "example.org", "pw-org", "2002", "/home/alice-org", {
      realname: "Alice at org",
    }),
    base("carol", "", cryptHash, "1003", "/home/carol"),
    base(INJECTION_QUOTE, "", "inj-1", "3001", "/home/inj1"),
    base(INJECTION_DROP, "", "inj-2", "3002", "/home/inj2"),
    base("jürgen", "", "grüße", "4001", "/home/jürgen", {
      realname: "Jürgen Müller",
    }),
    base("山田", "", "秘密", "4002", "/home/yamada", { realname: "山田太郎" }),
    base("abc", "", "secret", "abc", "/home/abc"),
    base("nulluid", "", "secret", null, "/home/nulluid"),
    base("nodir", "", "secret", "1004", ""),
    base("nulldir", "", "secret", "1005", null),
    base("dup", "", "secret", "1", "/home/dup1"),
    base("dup", "", "secret", "2", "/home/dup2"),
    base("nopw", "", null, "1006", "/home/nopw"),
  ];
}

/** One request, and what our module must answer. */
export interface Scenario {
  /** What it shows, for the test name. */
  name: string;
  /** cvm-testclient arguments after the module: account, domain, [password]. */
  args: string[];
  /** Use `crypt` comparison. */
  crypt?: boolean;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Our exit status. */
  code: number;
  /** Lines our stdout must contain. */
  lines?: string[];
  /**
   * When the reference answers differently on purpose: its exit status, and
   * why ours differs (README material). Absent: identical output required.
   */
  reference?: { code: number; why: string };
}

/** The scenarios run against both DBMS; `dialect` tunes the few that differ. */
export function scenarios(dialect: "pgsql" | "mysql"): Scenario[] {
  return [
    {
      name: "success reports every optional column",
      args: ["bob", "", "secret"],
      code: 0,
      lines: [
        "user ID:          1000",
        "real name:        Bob Builder",
        "mailbox path:     Maildir/",
      ],
    },
    {
      name: "a wrong password is rejected",
      args: ["bob", "", "wrong"],
      code: 100,
    },
    {
      name: "an unknown account is rejected",
      args: ["nobody", "", "secret"],
      code: 100,
    },
    {
      name: "no password is NOCRED",
      args: ["bob", ""],
      code: 7,
    },
    {
      name: "NULL optional columns are left out",
      args: ["nul", "", "secret"],
      code: 0,
      lines: ["real name:        (null)", "mailbox path:     (null)"],
    },
    {
      name: "empty optional columns are sent empty",
      args: ["emp", "", "secret"],
      code: 0,
      lines: ["shell:            ", "mailbox path:     "],
    },
    {
      name: "a domain-qualified account (user@domain) finds its domain's row",
      args: ["alice@example.com", "", "pw-com"],
      code: 0,
      lines: ["user ID:          2001", "domain:           example.com"],
    },
    {
      name: "a domain given separately finds that domain's row",
      args: ["alice", "example.org", "pw-org"],
      code: 0,
      lines: ["user ID:          2002"],
    },
    {
      name: "the other domain's password is rejected",
      args: ["alice@example.com", "", "pw-org"],
      code: 100,
    },
    {
      name: "no domain does not match a domain-qualified row",
      args: ["alice", "", "pw-com"],
      code: 100,
    },
    {
      name: "crypt storage accepts the right password",
      args: ["carol", "", CRYPT_PASSWORD],
      crypt: true,
      code: 0,
      lines: ["user ID:          1003"],
    },
    {
      name: "crypt storage rejects a wrong password",
      args: ["carol", "", "wrong"],
      crypt: true,
      code: 100,
    },
    {
      name: "crypt comparison rejects a plain-stored password",
      args: ["bob", "", "secret"],
      crypt: true,
      code: 100,
    },
    {
      name: "plain comparison does not hash the given password",
      args: ["carol", "", CRYPT_PASSWORD],
      code: 100,
    },
    {
      name: `the injection name ${
        JSON.stringify(INJECTION_QUOTE)
      } finds only its own row`,
      args: [INJECTION_QUOTE, "", "inj-1"],
      code: 0,
      lines: ["user ID:          3001"],
    },
    {
      name: `the injection name ${
        JSON.stringify(INJECTION_QUOTE)
      } cannot use another row's password`,
      args: [INJECTION_QUOTE, "", "secret"],
      code: 100,
    },
    {
      name: "an injection name not in the table matches no row",
      args: ["nobody' OR '1'='1", "", "secret"],
      code: 100,
    },
    dialect === "mysql"
      ? {
        name: `the injection name ${
          JSON.stringify(INJECTION_DROP)
        } finds only its own row`,
        args: [INJECTION_DROP, "", "inj-2"],
        code: 0,
        lines: ["user ID:          3002"],
      }
      : {
        name: `the injection name ${
          JSON.stringify(INJECTION_DROP)
        } finds its own row`,
        args: [INJECTION_DROP, "", "inj-2"],
        code: 0,
        lines: ["user ID:          3002"],
        reference: {
          code: 100,
          why:
            "the reference escapes the backslash as if standard_conforming_strings were off, so it looks up a different name (safe, but the account cannot log in); ours binds the name as a parameter",
        },
      },
    {
      name: "a Unicode account name (Latin) succeeds",
      args: ["jürgen", "", "grüße"],
      code: 0,
      lines: ["user name:        jürgen", "real name:        Jürgen Müller"],
    },
    {
      name: "a Unicode account name (CJK) succeeds",
      args: ["山田", "", "秘密"],
      code: 0,
      lines: ["user name:        山田"],
    },
    {
      name: "lookup mode needs no password",
      args: ["bob", ""],
      env: { CVM_LOOKUP_SECRET: "" },
      code: 0,
    },
    {
      name: "two matching rows are a rejection",
      args: ["dup", "", "secret"],
      code: 100,
    },
    {
      name: "a NULL stored password never matches",
      args: ["nopw", "", "x"],
      code: 100,
    },
    {
      name: "a NULL directory is BAD_MODDATA",
      args: ["nulldir", "", "secret"],
      code: 3,
    },
    {
      name: "a user ID that is not a number is BAD_MODDATA",
      args: ["abc", "", "secret"],
      code: 3,
      reference: {
        code: 0,
        why: "the reference reads the user ID 'abc' as 0, i.e. root",
      },
    },
    {
      name: "a NULL user ID is BAD_MODDATA",
      args: ["nulluid", "", "secret"],
      code: 3,
      reference: {
        code: 4,
        why: "the reference answers IO for a NULL user ID",
      },
    },
    {
      name: "an empty directory is BAD_MODDATA",
      args: ["nodir", "", "secret"],
      code: 3,
      reference: {
        code: 0,
        why:
          "the reference sends an empty directory although the manual calls it required",
      },
    },
  ];
}
