/** Regular-expression functions: regex regexall regex_replace, and replace's `/re/` form. */
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, str } from "./args.ts";
import { compileRe2, findAll, type Match, type Re2, replaceAll } from "./re2.ts";

/** Compiles a pattern, blaming argument `index` when it is invalid. */
function compile(pattern: string, index: number): Re2 {
  try {
    return compileRe2(pattern);
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(e.message, index);
    throw e;
  }
}

/**
 * The value of one match, shaped by the pattern's groups as cty does: the
 * matched text when there are none, a list for unnamed groups, an object
 * for named ones. A group that did not take part is null.
 */
function matchValue(re2: Re2, m: Match): Value {
  if (re2.groups.length === 0) return m.text;
  if (re2.groups.every((g) => g === "")) return m.captures.map((c) => c ?? null);
  return Object.fromEntries(re2.groups.map((g, i) => [g, m.captures[i] ?? null]));
}

function checkGroups(re2: Re2): void {
  const named = re2.groups.filter((g) => g !== "").length;
  if (named > 0 && named < re2.groups.length) {
    throw new ValueError(
      "invalid regular expression pattern: cannot mix both named and unnamed capture groups",
      0,
    );
  }
}

/** The regular-expression family. */
export const REGEX_FUNCTIONS: Record<string, HclFunction> = {
  regex: fn(["pattern", "string"], (a) => {
    const re2 = compile(str(a, 0, "pattern"), 0);
    checkGroups(re2);
    const [m] = findAll(re2, str(a, 1, "string"), 1);
    if (!m) throw new ValueError("pattern did not match any part of the given string", 1);
    return matchValue(re2, m);
  }),
  regexall: fn(["pattern", "string"], (a) => {
    const re2 = compile(str(a, 0, "pattern"), 0);
    checkGroups(re2);
    return findAll(re2, str(a, 1, "string")).map((m) => matchValue(re2, m));
  }),
  regex_replace: fn(["string", "substring", "replacement"], (a) => {
    const s = str(a, 0, "string");
    return replaceAll(compile(str(a, 1, "substring"), 1), s, str(a, 2, "replacement"));
  }),
  replace: fn(["str", "substr", "replace"], (a) => {
    const [s, sub, rep] = [str(a, 0, "str"), str(a, 1, "substr"), str(a, 2, "replace")];
    // A substring wrapped in slashes is a regular expression (Terraform's rule).
    if (sub.length > 1 && sub.startsWith("/") && sub.endsWith("/")) {
      return replaceAll(compile(sub.slice(1, -1), 1), s, rep);
    }
    return s.replaceAll(sub, rep);
  }),
};
