/**
 * The benchmark's report: rows of reference vs ours, printed as an aligned
 * table, and the closing summary line.
 *
 * @module
 */

/** A target a row is held to: a figure of the row and its bound. */
export interface Check {
  /** The figure checked (a ratio, or ours in its own unit). */
  value: number;
  /** The least it may be. */
  min?: number;
  /** The most it may be. */
  max?: number;
  /** The target as printed, e.g. ">=0.95x" or "<=40 MiB". */
  text: string;
}

/** One line of the report. */
export interface Row {
  /** What was measured. */
  scenario: string;
  /** The reference's figure, already formatted ("" when none). */
  reference: string;
  /** Ours, already formatted. */
  ours: string;
  /** How many times faster ours is (undefined when not comparable). */
  ratio?: number;
  /** The target, if the row has one. */
  check?: Check;
  /** Why the row has no figure (a failed run), if it has none. */
  error?: string;
}

/**
 * A check that a ratio is at least `min`.
 *
 * @param ratio The ratio (undefined when it could not be measured).
 * @param min The least it may be.
 * @returns The check, or undefined without a ratio.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { atLeast } from "./_bench_table.ts";
 * assert.equal(atLeast(1.2, 0.95)?.text, ">=0.95x");
 * ```
 */
export function atLeast(ratio: number | undefined, min: number): Check {
  return { value: ratio ?? NaN, min, text: `>=${min}x` };
}

/** Whether a row met its target: true, false, or undefined (no target). */
export function passed(row: Row): boolean | undefined {
  if (row.check === undefined) return undefined;
  if (row.error !== undefined) return false;
  const { value, min, max } = row.check;
  if (!Number.isFinite(value)) return false;
  return (min === undefined || value >= min) &&
    (max === undefined || value <= max);
}

/**
 * Formats a rate for the table: thousands separated, no decimals above 100.
 *
 * @param perSecond Validations per second.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate } from "./_bench_table.ts";
 * assert.equal(formatRate(12345.6), "12,346");
 * ```
 */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "n/a";
  return perSecond >= 100
    ? Math.round(perSecond).toLocaleString("en-US")
    : perSecond.toFixed(1);
}

/**
 * Renders the rows as an aligned text table.
 *
 * @param rows The rows.
 * @returns The table, one string with newlines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { atLeast, renderTable } from "./_bench_table.ts";
 * const table = renderTable([
 *   { scenario: "x", reference: "1", ours: "2", ratio: 2, check: atLeast(2, 1) },
 * ]);
 * assert.equal(table.split("\n")[2], "x                 1     2     2.00x    >=1x  PASS");
 * ```
 */
export function renderTable(rows: Row[]): string {
  const header = [
    "scenario",
    "reference",
    "ours",
    "ours/ref",
    "target",
    "result",
  ];
  const cells = rows.map((row) => {
    const verdict = passed(row);
    return [
      row.scenario,
      row.error !== undefined && row.reference === "" ? "-" : row.reference,
      row.error !== undefined && row.ours === "" ? "-" : row.ours,
      row.ratio === undefined ? "-" : `${row.ratio.toFixed(2)}x`,
      row.check === undefined ? "-" : row.check.text,
      row.error !== undefined
        ? `FAIL (${row.error})`
        : verdict === undefined
        ? "report"
        : verdict
        ? "PASS"
        : "FAIL",
    ];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((c) => c[i].length))
  );
  const rightAligned = new Set([1, 2, 3, 4]);
  const format = (c: string[]) =>
    c.map((text, i) =>
      i === c.length - 1
        ? text
        : rightAligned.has(i)
        ? text.padStart(widths[i])
        : text.padEnd(widths[i])
    ).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [format(header), rule, ...cells.map(format)].join("\n");
}

/**
 * The closing line: which targets were met.
 *
 * @param rows The rows.
 * @returns e.g. `targets met: 4/4 (...)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summaryLine } from "./_bench_table.ts";
 * assert.equal(summaryLine([]), "targets met: 0/0");
 * ```
 */
export function summaryLine(rows: Row[]): string {
  const targeted = rows.filter((r) => r.check !== undefined);
  const met = targeted.filter((r) => passed(r));
  const missed = targeted.filter((r) => !passed(r));
  let text = `targets met: ${met.length}/${targeted.length}`;
  if (met.length > 0) text += `; met: ${met.map((r) => r.scenario).join(", ")}`;
  if (missed.length > 0) {
    text += `; MISSED: ${missed.map((r) => r.scenario).join(", ")}`;
  }
  return text;
}
