/**
 * A small reader of the Prometheus text exposition format (version 0.0.4),
 * enough for `cvm stats`: samples with their labels and values; comments
 * and blank lines are skipped.
 *
 * @module
 */

/** One sample: a name, its labels and its value. */
export interface Sample {
  /** The sample name, e.g. `cvm_requests_total` or `…_bucket`. */
  name: string;
  /** The labels, unescaped. */
  labels: Record<string, string>;
  /** The value (`+Inf`, `-Inf` and `NaN` as numbers). */
  value: number;
}

function unescape(text: string): string {
  return text.replace(
    /\\(.)/g,
    (_, c: string) => c === "n" ? "\n" : c,
  );
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?[0-9.]+(e[-+]?[0-9]+)?$/i.test(text)) {
    throw new SyntaxError(`not a sample value: ${text}`);
  }
  return Number(text);
}

/**
 * Parses exposition text into samples.
 *
 * @param text The text a `/metrics` endpoint served.
 * @returns The samples in order.
 * @throws {SyntaxError} On a line that is not a sample.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrometheusText } from "./prometheus_text.ts";
 * assert.deepEqual(parsePrometheusText('# HELP x y\nreq_total{mode="local",code="0"} 3\n'), [{ name: "req_total", labels: { mode: "local", code: "0" }, value: 3 }]);
 * ```
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\})?\s+(\S+)(?:\s+-?[0-9]+)?$/
        .exec(line);
    if (!match) throw new SyntaxError(`not a sample: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = match[2] ?? "";
    const pairs = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;
    let consumed = 0;
    for (const pair of labelText.matchAll(pairs)) {
      if (pair.index !== consumed) break;
      labels[pair[1]] = unescape(pair[2]);
      consumed = pair.index + pair[0].length;
    }
    if (consumed !== labelText.length) {
      throw new SyntaxError(`bad labels: ${line}`);
    }
    samples.push({ name: match[1], labels, value: parseValue(match[3]) });
  }
  return samples;
}

/**
 * The upper bound of the bucket a quantile falls in, from a histogram's
 * cumulative buckets.
 *
 * @param buckets `le` bounds and cumulative counts.
 * @param q The quantile, 0 to 1.
 * @returns The bound (Infinity past the last finite one), or undefined when empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bucketQuantile } from "./prometheus_text.ts";
 * assert.equal(bucketQuantile([{ le: 0.01, count: 9 }, { le: 0.1, count: 10 }, { le: Infinity, count: 10 }], 0.99), 0.1);
 * ```
 */
export function bucketQuantile(
  buckets: readonly { le: number; count: number }[],
  q: number,
): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  return sorted.find((b) => b.count >= q * total)?.le;
}
