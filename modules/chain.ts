/**
 * cvm-chain: a module that asks the modules in `$CVM_CHAIN0` …
 * `$CVM_CHAIN9` in turn with the credentials it was given, and passes on
 * the first success (deprecated by client-side chains, still in use).
 *
 * @module
 */

import { CvmError, ErrorCode, type Facts } from "../protocol/mod.ts";
import { authenticate, type ClientResult } from "../clients/mod.ts";
import { type Backend, Rejection } from "./runtime/mod.ts";

/**
 * The module strings of `$CVM_CHAIN0` … `$CVM_CHAIN9`, in order, unset and
 * empty ones skipped.
 *
 * @param env The environment.
 * @returns The modules.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chainModules } from "./chain.ts";
 * assert.deepEqual(chainModules({ CVM_CHAIN0: "/usr/bin/cvm-unix", CVM_CHAIN3: "cvm-local:/s" }), ["/usr/bin/cvm-unix", "cvm-local:/s"]);
 * ```
 */
export function chainModules(
  env: Record<string, string | undefined>,
): string[] {
  const modules: string[] = [];
  for (let i = 0; i <= 9; i++) {
    const value = env[`CVM_CHAIN${i}`];
    if (value) modules.push(value);
  }
  return modules;
}

/**
 * Makes the cvm-chain backend. Unlike a client-side chain it moves on after
 * any failure; the last module's code is returned. Out-of-scope is reported
 * when some module reported it and none said 0.
 *
 * @param env `CVM_CHAIN0` … `CVM_CHAIN9`, passed on to command modules.
 * @returns The backend.
 * @throws {CvmError} CONFIG when no `$CVM_CHAINn` is set.
 * @example
 * ```ts
 * import { createChainBackend } from "./chain.ts";
 * createChainBackend({ CVM_CHAIN0: "/usr/bin/cvm-unix" });
 * ```
 */
export function createChainBackend(
  env: Record<string, string | undefined>,
): Backend<ClientResult> {
  const modules = chainModules(env);
  if (modules.length === 0) {
    throw new CvmError(
      ErrorCode.CONFIG,
      "none of $CVM_CHAIN0 … $CVM_CHAIN9 is set",
    );
  }
  return {
    async lookup(request) {
      let last: ClientResult | undefined;
      let outOfScope: number | undefined;
      for (const module of modules) {
        // Command modules inherit our environment, lookup secret included.
        last = await authenticate(module, request.credentials, {
          env,
          version: 2,
        });
        if (last.code === ErrorCode.OK) return last;
        const oos = last.facts.outOfScope;
        if (last.code === ErrorCode.PERMFAIL && oos !== undefined) {
          outOfScope = oos === 0 || outOfScope === 0 ? 0 : oos;
        }
      }
      if (last!.code === ErrorCode.PERMFAIL) {
        throw new Rejection(outOfScope);
      }
      throw new CvmError(last!.code, last!.reason ?? "chained module failed");
    },
    authenticate: () => Promise.resolve(true),
    results(result): Facts {
      return {
        username: result.facts.username!,
        userid: result.facts.userid!,
        groupid: result.facts.groupid!,
        directory: result.facts.directory!,
        raw: result.facts.all,
      };
    },
  };
}
