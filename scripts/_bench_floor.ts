/**
 * The floor servers of `deno task bench`: what Deno itself costs, with none
 * of our work. Each answers every request with the same successful reply,
 * the random tag echoed, and logs nothing:
 *
 * - `local PATH`: a Unix socket; reads the request to end of input, writes
 *   the reply, closes (as a module does);
 * - `udp PORT`: a UDP port on 127.0.0.1;
 * - `pgsql PATH` and `mysql PATH`: the Unix socket, plus one prepared
 *   query per request through postgres.js or mysql2, on a pool as large
 *   as our module's, with the same driver settings (the connection from
 *   the module's variables: `PGHOST`…, `CVM_MYSQL_*`, and its query from
 *   `CVM_PGSQL_QUERY` or `CVM_MYSQL_QUERY` with the request's account and
 *   domain bound).
 *
 * A server prints `Starting.` once it listens. Usage:
 *
 *     deno run --allow-all scripts/_bench_floor.ts local|udp|pgsql|mysql WHERE
 *
 * @module
 */

import {
  CredentialType,
  encodeFacts,
  encodeResponseV2,
  MAX_PACKET,
  parseRequestV2,
  toText,
} from "../protocol/mod.ts";

/** The facts every floor reply carries: an account's usual six. */
const FACTS = encodeFacts({
  username: "floor",
  userid: 1000,
  groupid: 100,
  realname: "Floor",
  directory: "/home/floor",
  shell: "/bin/sh",
});

/** The reply to a request: success, its random tag echoed. */
function reply(request: Uint8Array): Uint8Array {
  const random = request[0] === 2 && request.length >= 2
    ? request.subarray(2, 2 + request[1])
    : new Uint8Array(0);
  return encodeResponseV2({ code: 0, random, facts: FACTS });
}

/** The account and domain a request carries, for a floor that queries. */
function accountOf(request: Uint8Array): [string, string] {
  const parsed = parseRequestV2(request);
  if (!parsed.ok) return ["", ""];
  const get = (type: number) =>
    toText(
      parsed.value.credentials.find((c) => c.type === type)?.value ??
        new Uint8Array(0),
    );
  return [get(CredentialType.ACCOUNT), get(CredentialType.DOMAIN)];
}

/** Runs `query` (a prepared statement) with the account and domain bound. */
type Query = (account: string, domain: string) => Promise<unknown>;

/** A query through postgres.js, set up as cvm-pgsql's server mode is. */
async function pgsqlQuery(env: Record<string, string>): Promise<Query> {
  const { default: postgres } = await import("postgres");
  const { PGSQL_POOL_SIZE, parseSqlConnections } = await import(
    "../modules/sql/mod.ts"
  );
  const sql = postgres({
    host: env.PGHOST ?? "127.0.0.1",
    port: Number(env.PGPORT ?? 5432),
    username: env.PGUSER ?? "postgres",
    database: env.PGDATABASE ?? "postgres",
    max: parseSqlConnections(env, PGSQL_POOL_SIZE),
    prepare: true,
    fetch_types: false,
    onnotice: () => {},
    connection: env.PGOPTIONS ? { options: env.PGOPTIONS } : {},
  });
  const text = (env.CVM_PGSQL_QUERY ?? "").replace("$account", "$1")
    .replace("$domain", "$2");
  return (account, domain) =>
    sql.unsafe(text, [account, domain], { prepare: true }).values();
}

/** A query through mysql2, set up as cvm-mysql's server mode is. */
async function mysqlQuery(env: Record<string, string>): Promise<Query> {
  const { default: mysql } = await import("mysql2");
  const { MYSQL_POOL_SIZE, parseSqlConnections } = await import(
    "../modules/sql/mod.ts"
  );
  const connections = parseSqlConnections(env, MYSQL_POOL_SIZE);
  const pool = mysql.createPool({
    host: env.CVM_MYSQL_HOST ?? "127.0.0.1",
    port: Number(env.CVM_MYSQL_PORT ?? 3306),
    user: env.CVM_MYSQL_USER ?? "root",
    database: env.CVM_MYSQL_DB,
    connectionLimit: connections,
    maxIdle: connections,
    charset: "utf8mb4",
    rowsAsArray: true,
  });
  const text = (env.CVM_MYSQL_QUERY ?? "").replace("$account", "?")
    .replace("$domain", "?");
  return (account, domain) =>
    new Promise((resolve, reject) =>
      pool.execute(
        text,
        [account, domain],
        (e, rows) => e ? reject(e) : resolve(rows),
      )
    );
}

async function serveLocal(path: string, query?: Query): Promise<void> {
  try {
    Deno.removeSync(path);
  } catch { /* none */ }
  const listener = Deno.listen({ transport: "unix", path });
  console.log("Starting.");
  for await (const conn of listener) {
    (async () => {
      const buffer = new Uint8Array(MAX_PACKET + 1);
      let length = 0;
      for (;;) {
        const n = await conn.read(buffer.subarray(length));
        if (n === null) break;
        length += n;
      }
      const request = buffer.subarray(0, length);
      if (query) await query(...accountOf(request));
      await conn.write(reply(request));
    })().catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    });
  }
}

async function serveUdp(port: number): Promise<void> {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port,
  });
  console.log("Starting.");
  const buffer = new Uint8Array(2048);
  for (;;) {
    const [message, peer] = await socket.receive(buffer);
    socket.send(reply(message), peer).catch(() => {});
  }
}

if (import.meta.main) {
  const [mode, where] = Deno.args;
  const env = Deno.env.toObject();
  switch (mode) {
    case "local":
      await serveLocal(where);
      break;
    case "udp":
      await serveUdp(Number(where));
      break;
    case "pgsql":
      await serveLocal(where, await pgsqlQuery(env));
      break;
    case "mysql":
      await serveLocal(where, await mysqlQuery(env));
      break;
    default:
      console.error("usage: _bench_floor.ts local|udp|pgsql|mysql WHERE");
      Deno.exit(2);
  }
}
