/**
 * Asking a cvm-ldap backend in this process, the way the module runtime
 * does (bytes in, bytes out, through `answerRequest`), and the environment
 * pointing it at a test slapd.
 *
 * @module
 */

import { answerRequest } from "../../../modules/runtime/answer.ts";
import type { Backend } from "../../../modules/runtime/backend.ts";
import { createLdapBackend } from "../../../modules/ldap/mod.ts";
import {
  type ClientFacts,
  decodeFacts,
  encodeRequestV2,
  parseResponseV2,
  type Tagged,
} from "../../../protocol/mod.ts";
import {
  BASE,
  READER_DN,
  READER_PW,
  SEARCHER_DN,
  SEARCHER_PW,
  type Slapd,
} from "./_slapd.ts";

/** What a request came back with. */
export interface Reply {
  /** The result code. */
  code: number;
  /** The facts (out-of-scope included). */
  facts: ClientFacts;
}

/** The environment for bind mode: the searcher, who cannot read passwords. */
export function bindEnv(slapd: Slapd): Record<string, string> {
  return {
    CVM_LDAP_URI: slapd.uri,
    CVM_LDAP_BASE: BASE,
    CVM_LDAP_BINDDN: SEARCHER_DN,
    CVM_LDAP_BINDPW: SEARCHER_PW,
    CVM_LDAP_TIMEOUT: "5",
  };
}

/** The environment for compare mode: the reader, who can. */
export function compareEnv(slapd: Slapd): Record<string, string> {
  return {
    ...bindEnv(slapd),
    CVM_LDAP_AUTH: "compare",
    CVM_LDAP_BINDDN: READER_DN,
    CVM_LDAP_BINDPW: READER_PW,
  };
}

/**
 * Makes a backend from an environment, runs `use`, closes the backend.
 *
 * @param env The module's environment.
 * @param persistent Server mode (pools) or command mode (one connection).
 * @param use What to do with it (and the notes it wrote for the admin).
 * @returns What `use` returned.
 */
export async function withBackend<T>(
  env: Record<string, string>,
  persistent: boolean,
  use: (backend: Backend<unknown>, notes: string[]) => Promise<T>,
): Promise<T> {
  const notes: string[] = [];
  const backend = await createLdapBackend(
    env,
    { persistent },
    (line) => notes.push(line),
  );
  try {
    return await use(backend as Backend<unknown>, notes);
  } finally {
    await backend.close?.();
  }
}

const encoder = new TextEncoder();

/**
 * Sends one version 2 request to a backend and reads the reply.
 *
 * @param backend The backend.
 * @param account The account name (text or raw bytes).
 * @param password The password; undefined sends none.
 * @param options A domain; the secret credential to send; the module's
 *   `$CVM_LOOKUP_SECRET` (lookup mode), sent as the secret unless one is given.
 * @returns The code and facts.
 */
export async function ask(
  backend: Backend<unknown>,
  account: string | Uint8Array,
  password: string | Uint8Array | undefined,
  options: { domain?: string; secret?: string; lookupSecret?: string } = {},
): Promise<Reply> {
  const bytes = (v: string | Uint8Array) =>
    typeof v === "string" ? encoder.encode(v) : v;
  const credentials: Tagged[] = [{ type: 1, value: bytes(account) }];
  if (options.domain !== undefined) {
    credentials.push({ type: 2, value: bytes(options.domain) });
  }
  if (password !== undefined) {
    credentials.push({ type: 3, value: bytes(password) });
  }
  const secret = options.secret ?? options.lookupSecret;
  if (secret !== undefined) {
    credentials.push({ type: 4, value: bytes(secret) });
  }
  const random = crypto.getRandomValues(new Uint8Array(8));
  const answer = await answerRequest(
    backend,
    encodeRequestV2(random, credentials),
    {
      lookupSecret: options.lookupSecret === undefined
        ? undefined
        : bytes(options.lookupSecret),
    },
  );
  const parsed = parseResponseV2(answer.reply, random);
  if (!parsed.ok) throw new Error(`unreadable reply: ${parsed.reason}`);
  const facts = decodeFacts(parsed.value.facts, parsed.value.code === 0);
  if (!facts.ok) throw new Error(`bad facts: ${facts.reason}`);
  return { code: parsed.value.code, facts: facts.value };
}
