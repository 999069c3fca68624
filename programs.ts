/**
 * The table of programs the one binary answers to. Each entry loads its
 * code only when run, so a module's startup does not pay for the others.
 *
 * @module
 */

import type { Invocation, ProgramEntry } from "./program.ts";
import type { BackendFactory } from "./modules/runtime/mod.ts";

/** A module program and its -local and -udp forms. */
function moduleEntries(
  base: string,
  summary: string,
  load: () => Promise<BackendFactory>,
): ProgramEntry[] {
  const main = async (invocation: Invocation) => {
    const { runModule } = await import("./modules/runtime/mod.ts");
    return runModule(base, await load(), invocation);
  };
  return [
    { name: base, summary, main },
    { name: `${base}-local`, summary: `${base} on a local socket: PATH`, main },
    { name: `${base}-udp`, summary: `${base} on UDP: IP PORT`, main },
  ];
}

/** Every program, in the order `cvm --help` lists them. */
export const PROGRAMS: readonly ProgramEntry[] = [
  ...moduleEntries(
    "cvm-pwfile",
    "module: accounts from a passwd-format file ($CVM_PWFILE_PATH)",
    async () => (await import("./modules/pwfile.ts")).createPwfileBackend,
  ),
  ...moduleEntries(
    "cvm-cdb",
    "module: accounts from a cdb file ($CVM_CDB_PATH), O(1) per request",
    async () => (await import("./modules/cdbfile/mod.ts")).createCdbBackend,
  ),
  ...moduleEntries(
    "cvm-unix",
    "module: the system's accounts (getpwnam, shadow, crypt)",
    async () => (await import("./modules/unix.ts")).createUnixBackend,
  ),
  ...moduleEntries(
    "cvm-chain",
    "module: asks the modules in $CVM_CHAIN0 … $CVM_CHAIN9 in turn",
    async () => (await import("./modules/chain.ts")).createChainBackend,
  ),
  ...moduleEntries(
    "cvm-sqlite",
    "module: accounts from an SQLite file ($CVM_SQLITE_DB, $CVM_SQLITE_QUERY)",
    async () => (await import("./modules/sql/mod.ts")).createSqliteBackend,
  ),
  ...moduleEntries(
    "cvm-pgsql",
    "module: accounts from PostgreSQL ($PGHOST…, $CVM_PGSQL_QUERY)",
    async () => (await import("./modules/sql/mod.ts")).createPgsqlBackend,
  ),
  ...moduleEntries(
    "cvm-mysql",
    "module: accounts from MySQL/MariaDB ($CVM_MYSQL_*, $CVM_MYSQL_QUERY)",
    async () => (await import("./modules/sql/mod.ts")).createMysqlBackend,
  ),
  ...moduleEntries(
    "cvm-ldap",
    "module: accounts from an LDAP directory ($CVM_LDAP_URI, $CVM_LDAP_BASE)",
    async () => (await import("./modules/ldap/mod.ts")).createLdapBackend,
  ),
  ...moduleEntries(
    "cvm-qmail",
    "module: lookup only: addresses qmail would deliver ($QMAIL_ROOT)",
    async () => (await import("./modules/qmail/mod.ts")).createQmailBackend,
  ),
  ...moduleEntries(
    "cvm-vmailmgr",
    "module: vmailmgr virtual users (passwd.cdb in the domain's home)",
    async () => (await import("./modules/qmail/mod.ts")).createVmailmgrBackend,
  ),
  ...moduleEntries(
    "cvm-vchkpw",
    "module: vpopmail virtual users (users/assign, vpasswd[.cdb])",
    async () => (await import("./modules/qmail/mod.ts")).createVchkpwBackend,
  ),
  {
    name: "cvm-testclient",
    summary: "client: validate once and print the facts",
    main: async (i) =>
      (await import("./clients/testclient.ts")).testclientMain(i),
  },
  {
    name: "cvm-v1testclient",
    summary: "client: cvm-testclient over protocol version 1",
    main: async (i) =>
      (await import("./clients/testclient.ts")).v1testclientMain(i),
  },
  {
    name: "cvm-benchclient",
    summary: "client: validate COUNT times back to back",
    main: async (i) =>
      (await import("./clients/benchclient.ts")).benchclientMain(i),
  },
  {
    name: "cvm-v1benchclient",
    summary: "client: cvm-benchclient over protocol version 1",
    main: async (i) =>
      (await import("./clients/benchclient.ts")).v1benchclientMain(i),
  },
  {
    name: "cvm-checkpassword",
    summary: "client: the checkpassword interface (fd 3), then exec PROGRAM",
    main: async (i) =>
      (await import("./clients/checkpassword.ts")).checkpasswordMain(i),
  },
  {
    name: "cvm-v1checkpassword",
    summary: "client: cvm-checkpassword over protocol version 1",
    main: async (i) =>
      (await import("./clients/checkpassword.ts")).v1checkpasswordMain(i),
  },
  {
    name: "sasl-auth-test",
    summary:
      "client: one SASL exchange (PLAIN, LOGIN, CRAM-MD5) on stdin/stdout",
    main: async (i) =>
      (await import("./clients/sasl_auth_test.ts")).saslAuthTestMain(i),
  },
];

/**
 * Finds a program by name.
 *
 * @param name The program name, e.g. "cvm-pwfile".
 * @returns The entry, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findProgram } from "./programs.ts";
 * assert.equal(typeof findProgram("cvm-testclient")?.summary, "string");
 * assert.equal(findProgram("no-such-program"), undefined);
 * ```
 */
export function findProgram(name: string): ProgramEntry | undefined {
  return PROGRAMS.find((p) => p.name === name);
}
