/**
 * Search filters from a template: `$account`, `$user`, `$domain` (and, for
 * the group search, `$username` and `$dn`) replaced by the request's values
 * escaped per RFC 4515, so that `*`, `(`, `)`, `\` and NUL in a name are
 * matched literally and can never widen the search.
 *
 * @module
 */

import { FilterParser } from "ldapts";
import { CvmError, ErrorCode } from "../../protocol/mod.ts";

/** The account filter used when `$CVM_LDAP_FILTER` is not set. */
export const DEFAULT_FILTER = "(uid=$account)";

/** A filter template split into literal text and variable names. */
export interface FilterTemplate {
  /** The setting it came from, for messages. */
  variable: string;
  /** Literal filter text and `{ name }` slots, in order. */
  parts: readonly (string | { name: string })[];
}

/**
 * Escapes a value for use inside an RFC 4515 filter: `*`, `(`, `)`, `\`
 * and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`. Other characters,
 * UTF-8 included, stand for themselves.
 *
 * @param value The raw value.
 * @returns The escaped text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeFilterValue } from "./filter.ts";
 * assert.equal(escapeFilterValue(")(uid=*"), "\\29\\28uid=\\2a");
 * ```
 */
export function escapeFilterValue(value: string): string {
  return value.replace(
    // deno-lint-ignore no-control-regex
    /[*()\\\x00]/g,
    (c) => "\\" + c.charCodeAt(0).toString(16).padStart(2, "0"),
  );
}

const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * Compiles a filter template. `$name` and `${name}` are variables (only
 * those in `names`), `$$` is a dollar sign. The template must be a valid
 * filter once the variables are filled in.
 *
 * @param variable The setting's name, for errors (e.g. "CVM_LDAP_FILTER").
 * @param template The template text.
 * @param names The variables it may use.
 * @returns The compiled template.
 * @throws {CvmError} CONFIG naming `variable` for an unknown variable, an
 *   unterminated `${`, or a template that is not a valid filter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFilter, expandFilter } from "./filter.ts";
 * const t = compileFilter("CVM_LDAP_FILTER", "(mail=$user@$domain)",
 *   ["account", "user", "domain"]);
 * assert.equal(
 *   expandFilter(t, { user: "b*b", domain: "example.com" }),
 *   "(mail=b\\2ab@example.com)",
 * );
 * assert.throws(() => compileFilter("CVM_LDAP_FILTER", "(uid=$nope)", ["user"]));
 * ```
 */
export function compileFilter(
  variable: string,
  template: string,
  names: readonly string[],
): FilterTemplate {
  const fail = (why: string) =>
    new CvmError(ErrorCode.CONFIG, `$${variable}: ${why}`);
  const parts: (string | { name: string })[] = [];
  let literal = "";
  let at = 0;
  const slot = (name: string) => {
    if (!names.includes(name)) {
      throw fail(
        `unknown variable $${name} (known: ${
          names.map((n) => "$" + n).join(", ")
        })`,
      );
    }
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push({ name });
  };
  while (at < template.length) {
    const dollar = template.indexOf("$", at);
    if (dollar < 0) {
      literal += template.slice(at);
      break;
    }
    literal += template.slice(at, dollar);
    const next = template[dollar + 1];
    if (next === "$") {
      literal += "$";
      at = dollar + 2;
    } else if (next === "{") {
      const close = template.indexOf("}", dollar + 2);
      if (close < 0) throw fail("unterminated ${");
      slot(template.slice(dollar + 2, close));
      at = close + 1;
    } else if (next !== undefined && NAME_CHAR.test(next)) {
      let end = dollar + 1;
      while (end < template.length && NAME_CHAR.test(template[end])) end++;
      slot(template.slice(dollar + 1, end));
      at = end;
    } else {
      throw fail('a "$" must start a variable or be written "$$"');
    }
  }
  if (literal !== "") parts.push(literal);
  const compiled = { variable, parts };
  // Filled with a harmless sample, it must parse as a filter.
  const sample = Object.fromEntries(names.map((n) => [n, "x"]));
  try {
    FilterParser.parseString(expandFilter(compiled, sample));
  } catch (e) {
    throw fail(`not a valid filter (${e instanceof Error ? e.message : e})`);
  }
  if (!expandFilter(compiled, sample).startsWith("(")) {
    throw fail("a filter must be in parentheses");
  }
  return compiled;
}

/**
 * Fills in a compiled template, escaping every value.
 *
 * @param template The compiled template.
 * @param values The value of each variable (a missing one is empty).
 * @returns The filter text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFilter, expandFilter } from "./filter.ts";
 * const t = compileFilter("F", "(uid=$account)", ["account"]);
 * assert.equal(expandFilter(t, { account: "*" }), "(uid=\\2a)");
 * ```
 */
export function expandFilter(
  template: FilterTemplate,
  values: Readonly<Record<string, string>>,
): string {
  return template.parts.map((part) =>
    typeof part === "string" ? part : escapeFilterValue(values[part.name] ?? "")
  ).join("");
}
