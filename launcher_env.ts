/**
 * The environment the portable tree's launcher sets for its deno, and how
 * main.ts gives the programs the caller's instead: the launcher points
 * DENO_DIR at the tree's cache and sets DENO_NO_UPDATE_CHECK and
 * DENO_DISABLE_NODE_SHIM, saving a caller's values of them as
 * `CVM_CALLER_<NAME>`. A client's next program (checkpassword's) must get
 * the environment the client got, as with the reference.
 *
 * @module
 */

/** The variables the launcher sets for deno. */
export const LAUNCHER_ENV = [
  "DENO_DIR",
  "DENO_NO_UPDATE_CHECK",
  "DENO_DISABLE_NODE_SHIM",
] as const;

/**
 * When run by the portable launcher (DENO_DIR is the tree's own cache),
 * puts back the caller's values of the launcher's variables, and removes
 * those the caller did not have.
 *
 * @param cache The tree's cache: `cache` beside main.ts.
 * @param env The environment to mend (default: this process's).
 * @returns Whether it was run by the launcher.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { restoreCallerEnvironment } from "./launcher_env.ts";
 * const env = new Map([["DENO_DIR", "/opt/cvm/lib/cvm/cache"], ["CVM_CALLER_DENO_DIR", "/x"]]);
 * const restored = restoreCallerEnvironment("/opt/cvm/lib/cvm/cache", {
 *   get: (k) => env.get(k),
 *   set: (k, v) => void env.set(k, v),
 *   delete: (k) => void env.delete(k),
 * });
 * assert.equal(restored, true);
 * assert.deepEqual(env, new Map([["DENO_DIR", "/x"]]));
 * ```
 */
export function restoreCallerEnvironment(
  cache: string,
  env: Pick<Deno.Env, "get" | "set" | "delete"> = Deno.env,
): boolean {
  if (env.get("DENO_DIR") !== cache) return false;
  for (const name of LAUNCHER_ENV) {
    const saved = env.get(`CVM_CALLER_${name}`);
    if (saved === undefined) env.delete(name);
    else env.set(name, saved);
    env.delete(`CVM_CALLER_${name}`);
  }
  return true;
}
