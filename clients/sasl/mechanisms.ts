/**
 * Which SASL mechanisms are enabled, read from the environment as the
 * reference reads it, and the capability text a server advertises.
 *
 * @module
 */

/** A mechanism that is enabled, and the module string that validates it. */
export interface SaslMechanism {
  /** The mechanism name, e.g. "PLAIN". */
  name: "LOGIN" | "PLAIN" | "CRAM-MD5";
  /** The module string (from the environment). */
  module: string;
}

/**
 * The enabled mechanisms, in the order the reference lists them: LOGIN
 * (when `$CVM_SASL_LOGIN` or `$CVM_SASL_PLAIN` is set), PLAIN
 * (`$CVM_SASL_PLAIN`), CRAM-MD5 (`$CVM_SASL_CRAM_MD5`). A variable set to
 * the empty string counts as set.
 *
 * @param env The environment.
 * @returns The mechanisms.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslMechanisms } from "./mechanisms.ts";
 * assert.deepEqual(saslMechanisms({ CVM_SASL_PLAIN: "cvm-local:/run/cvm" }).map((m) => m.name), ["LOGIN", "PLAIN"]);
 * ```
 */
export function saslMechanisms(
  env: Record<string, string | undefined>,
): SaslMechanism[] {
  const out: SaslMechanism[] = [];
  const login = env.CVM_SASL_LOGIN ?? env.CVM_SASL_PLAIN;
  if (login !== undefined) out.push({ name: "LOGIN", module: login });
  if (env.CVM_SASL_PLAIN !== undefined) {
    out.push({ name: "PLAIN", module: env.CVM_SASL_PLAIN });
  }
  if (env.CVM_SASL_CRAM_MD5 !== undefined) {
    out.push({ name: "CRAM-MD5", module: env.CVM_SASL_CRAM_MD5 });
  }
  return out;
}

/**
 * The capability text a server advertises, e.g. `AUTH LOGIN PLAIN`.
 *
 * @param env The environment.
 * @returns The text, or undefined when no mechanism is enabled.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saslCaps } from "./mechanisms.ts";
 * assert.equal(saslCaps({ CVM_SASL_CRAM_MD5: "/usr/bin/cvm-vmailmgr" }), "AUTH CRAM-MD5");
 * ```
 */
export function saslCaps(
  env: Record<string, string | undefined>,
): string | undefined {
  const names = saslMechanisms(env).map((m) => m.name);
  return names.length === 0 ? undefined : `AUTH ${names.join(" ")}`;
}
