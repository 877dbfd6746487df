/**
 * RE2 patterns (Go's regexp syntax, which Packer's regex functions take)
 * run on JavaScript's engine: the pattern is translated, and what RE2 does
 * not allow (backreferences, lookaround) or JavaScript cannot do (ungreedy
 * mode, flags changed mid-pattern) is refused with a clear error rather than
 * silently matching differently.
 *
 * Matching is leftmost-first in both engines, so results agree; iteration
 * follows Go's rule that an empty match right after a match is skipped.
 */
import { ValueError } from "../value.ts";

/** A translated pattern. */
export interface Re2 {
  re: RegExp;
  /** Names of the capture groups, in order; "" for an unnamed group. */
  groups: string[];
}

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

function bad(pattern: string, why: string): never {
  throw new ValueError(`invalid regular expression pattern ${JSON.stringify(pattern)}: ${why}`);
}

const escapeLiteral = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

/** Translates one escape at `p[i]` (the backslash); returns [js, next index]. */
function escape(p: string, i: number, inClass: boolean): [string, number] {
  const c = p[i + 1];
  if (c === undefined) bad(p, "trailing backslash at end of expression");
  if (/[1-9]/.test(c)) bad(p, `backreferences like \\${c} are not supported by RE2`);
  if (c === "A" && !inClass) return ["(?<![\\s\\S])", i + 2];
  if (c === "z" && !inClass) return ["(?![\\s\\S])", i + 2];
  if (c === "Q") {
    const end = p.indexOf("\\E", i + 2);
    const lit = p.slice(i + 2, end < 0 ? p.length : end);
    return [escapeLiteral(lit), end < 0 ? p.length : end + 2];
  }
  if (c === "x" && p[i + 2] === "{") {
    const end = p.indexOf("}", i + 3);
    if (end < 0) bad(p, "invalid escape sequence \\x{");
    return [`\\u{${p.slice(i + 3, end)}}`, end + 1];
  }
  if (c === "p" || c === "P") {
    const m = /^\{(\^?)([A-Za-z_]+)\}|^([A-Za-z])/.exec(p.slice(i + 2));
    if (!m) bad(p, `invalid character class range \\${c}`);
    const negate = m[1] === "^" ? (c === "p" ? "P" : "p") : c;
    const name = m[2] ?? m[3];
    const general =
      /^(L|Lu|Ll|Lt|Lm|Lo|M|Mn|Mc|Me|N|Nd|Nl|No|P|Pc|Pd|Ps|Pe|Pi|Pf|Po|S|Sm|Sc|Sk|So|Z|Zs|Zl|Zp|C|Cc|Cf|Cs|Co|Cn)$/;
    const prop = name === "Any" ? "Any" : general.test(name) ? name : `Script=${name}`;
    return [`\\${negate}{${prop}}`, i + 2 + m[0].length];
  }
  if (c === "C") bad(p, "\\C (any byte) is not supported");
  if (c === "a") return ["\\x07", i + 2];
  if (c === "0") {
    const oct = /^[0-7]{0,2}/.exec(p.slice(i + 2))![0];
    return [`\\u{${parseInt("0" + oct, 8).toString(16)}}`, i + 2 + oct.length];
  }
  // RE2's \s is ASCII space only; JavaScript's adds \v and Unicode spaces.
  if (c === "s") return [inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]", i + 2];
  if (c === "S" && !inClass) return ["[^\\t\\n\\f\\r ]", i + 2];
  if (/[dDwWSbBfnrtvx]/.test(c)) return [p.slice(i, i + 2), i + 2];
  if (/[A-Za-z0-9]/.test(c)) bad(p, `invalid escape sequence \\${c}`);
  // Any punctuation may be escaped in RE2; JavaScript's unicode mode allows only syntax characters.
  if (/[\\^$.*+?()[\]{}|/]/.test(c) || (c === "-" && inClass)) return [p.slice(i, i + 2), i + 2];
  return [c, i + 2];
}

/** Translates a character class starting at `p[i]` ("["); returns [js, next index]. */
function charClass(p: string, i: number): [string, number] {
  let out = "[";
  let j = i + 1;
  if (p[j] === "^") (out += "^", j++);
  // A "]" first in the class is a literal in RE2.
  if (p[j] === "]") (out += "\\]", j++);
  while (j < p.length && p[j] !== "]") {
    if (p.startsWith("[:", j)) {
      const end = p.indexOf(":]", j);
      const name = end < 0 ? "" : p.slice(j + 2, end);
      const neg = name.startsWith("^");
      const set = POSIX[neg ? name.slice(1) : name];
      if (!set) bad(p, `invalid character class range ${p.slice(j, end + 2)}`);
      if (neg) bad(p, "negated POSIX classes inside a class are not supported");
      out += set;
      j = end + 2;
    } else if (p[j] === "\\") {
      const [s, k] = escape(p, j, true);
      out += s;
      j = k;
    } else if (p[j] === "[") {
      out += "\\[";
      j++;
    } else {
      out += p[j++];
    }
  }
  if (j >= p.length) bad(p, "missing closing ]");
  return [out + "]", j + 1];
}

/**
 * Translates an RE2 pattern to a JavaScript RegExp (global, unicode).
 * Throws ValueError for patterns RE2 rejects or JavaScript cannot run alike.
 */
export function compileRe2(pattern: string): Re2 {
  let flags = "gu";
  let i = 0;
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    if (lead[1].includes("U")) bad(pattern, "the ungreedy flag U is not supported");
    flags += lead[1];
    i = lead[0].length;
  }
  const dotAll = flags.includes("s");
  const groups: string[] = [];
  let out = "";
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      const [s, k] = escape(pattern, i, false);
      (out += s, i = k);
    } else if (c === "[") {
      const [s, k] = charClass(pattern, i);
      (out += s, i = k);
    } else if (c === "(") {
      const rest = pattern.slice(i);
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named) {
        groups.push(named[1]);
        out += `(?<${named[1]}>`;
        i += named[0].length;
      } else if (rest.startsWith("(?:")) {
        (out += "(?:", i += 3);
      } else if (/^\(\?[=!]|^\(\?<[=!]/.test(rest)) {
        bad(pattern, "lookahead and lookbehind are not supported by RE2");
      } else if (rest.startsWith("(?")) {
        const mod = /^\(\?([ims]*)(?:-([ims]*))?(:|\))/.exec(rest);
        if (!mod || mod[3] === ")") {
          bad(
            pattern,
            "flags can only be set at the start of the pattern, or as (?flags:...) groups",
          );
        }
        out += mod[0];
        i += mod[0].length;
      } else {
        groups.push("");
        (out += "(", i++);
      }
    } else if (c === "." && !dotAll) {
      // RE2's "." excludes only "\n"; JavaScript's also excludes "\r", U+2028 and U+2029.
      (out += "[^\\n]", i++);
    } else if (c === "{" && !/^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
      (out += "\\{", i++);
    } else if (c === "}" && !/\{\d+(,\d*)?$/.test(pattern.slice(0, i))) {
      (out += "\\}", i++);
    } else {
      (out += c, i++);
    }
  }
  try {
    return { re: new RegExp(out, flags), groups };
  } catch (e) {
    bad(pattern, (e as Error).message.replace(/^Invalid regular expression: /, ""));
  }
}

/** One match: its span and its groups (undefined for a group that did not take part). */
export interface Match {
  index: number;
  end: number;
  text: string;
  captures: (string | undefined)[];
  named: Record<string, string | undefined>;
}

/** Every match of `re2` in `s`, with Go's iteration rule for empty matches. */
export function findAll(re2: Re2, s: string, limit = Infinity): Match[] {
  const re = re2.re;
  const out: Match[] = [];
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length && out.length < limit) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const end = m.index + m[0].length;
    let accept = true;
    if (end === m.index) {
      if (m.index === prevEnd) accept = false;
      const cp = s.codePointAt(m.index);
      pos = m.index + (cp === undefined ? 1 : cp > 0xffff ? 2 : 1);
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) {
      out.push({
        index: m.index,
        end,
        text: m[0],
        captures: m.slice(1),
        named: { ...(m.groups ?? {}) },
      });
    }
  }
  return out;
}

/**
 * Expands a Go replacement template (`$1`, `${1}`, `$name`, `${name}`,
 * `$$`) for one match, as regexp.Expand does: `$1x` means the group named
 * "1x", and an unknown group expands to nothing.
 */
export function expand(template: string, m: Match, groups: string[]): string {
  return template.replace(
    /\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g,
    (all, _d, braced, bare) => {
      if (all === "$$") return "$";
      const name = braced ?? bare;
      if (/^\d+$/.test(name)) {
        const n = Number(name);
        return n === 0 ? m.text : m.captures[n - 1] ?? "";
      }
      const idx = groups.indexOf(name);
      return idx < 0 ? "" : m.captures[idx] ?? "";
    },
  );
}

/** Go's ReplaceAllString. */
export function replaceAll(re2: Re2, s: string, template: string): string {
  let out = "";
  let last = 0;
  for (const m of findAll(re2, s)) {
    out += s.slice(last, m.index) + expand(template, m, re2.groups);
    last = m.end;
  }
  return out + s.slice(last);
}
