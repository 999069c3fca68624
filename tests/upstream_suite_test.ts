/**
 * The upstream cvm project's own test suite (76 cases in bglibs' format),
 * run by scripts/upstream_tests.ts against Debian's programs and ours:
 * every case the reference passes must pass with ours, and every case ours
 * can run (the SASL cases too, whose program Debian does not ship) must
 * pass. Skips with a line saying so when the upstream tests cannot be
 * found (`$CVM_UPSTREAM_TESTS`, `$CVM_UPSTREAM_GIT`).
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  compareUpstreamSuite,
  countOutcomes,
  findUpstreamTests,
  formatComparison,
} from "../scripts/upstream_tests.ts";
import { dist, ensureDist, have, REF } from "./_helpers.ts";

Deno.test({
  name:
    "the upstream test suite: ours passes every case the reference passes, and every case it can run",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!have(`${REF}/cvm-testclient`)) return;
    const tests = await findUpstreamTests(Deno.env.toObject());
    if (typeof tests === "string") {
      console.log(`skip: ${tests}`);
      return;
    }
    try {
      await ensureDist();
      const comparison = await compareUpstreamSuite(tests.dir, {
        reference: REF,
        ours: dist,
      });
      const report = formatComparison(comparison);
      console.log(report.split("\n").slice(-4).join("\n"));
      assertEquals(comparison.regressions, [], report);
      const ours = comparison.cases.map((c) => c.ours);
      assertEquals(
        ours.filter((o) => o.status === "fail").map((o) => o.label),
        [],
        report,
      );
      // The SASL cases run only against ours: they must have run.
      assertEquals(
        countOutcomes(ours.filter((o) => o.label.startsWith("sasl-"))),
        { pass: 7, fail: 0, skip: 0 },
      );
    } finally {
      tests.cleanup();
    }
  },
});
