/**
 * String functions other than formatting and regular expressions: chomp
 * indent join lower split strrev substr title trim trimprefix trimsuffix
 * trimspace upper startswith endswith strcontains.
 *
 * Lengths and offsets count grapheme clusters, as cty's do ("é" written as
 * e + combining accent is one character).
 */
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { arg, fn, int, str, variadic } from "./args.ts";

// Creating a Segmenter loads ICU's break rules (~20 ms of CPU), so it is
// made on the first string that needs it.
let segmenter: Intl.Segmenter | undefined;

/** Strings where every UTF-16 unit is a grapheme on its own: no CR (CR LF is one cluster). */
const SIMPLE = /^[\t\n\x20-\x7e]*$/;

/** The grapheme clusters of `s`. */
export function graphemes(s: string): string[] {
  if (SIMPLE.test(s)) return s.split("");
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return Array.from(segmenter.segment(s), (x) => x.segment);
}

function join(args: Value[]): string {
  const sep = str(args, 0, "separator");
  if (args.length < 2) throw new ValueError("at least one list is required");
  const parts: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const items = arg(args, i, { list: "any" }, "lists") as Value[];
    items.forEach((v, j) => {
      if (v === null) {
        throw new ValueError(
          `Invalid value for "lists" parameter: element ${j} is null; cannot concatenate null values`,
          i,
        );
      }
      parts.push(str([v], 0, "lists"));
    });
  }
  return parts.join(sep);
}

function substr(args: Value[]): string {
  const chars = graphemes(str(args, 0, "str"));
  let offset = int(args, 1, "offset");
  const length = int(args, 2, "length");
  if (offset < 0) offset = Math.max(0, chars.length + offset);
  // Past the end is an empty string, as in Packer (not an error).
  if (offset > chars.length) return "";
  const end = length < 0 ? chars.length : Math.min(chars.length, offset + length);
  return chars.slice(offset, end).join("");
}

/** Go's strings.Title: a letter after anything but a letter, digit, underscore or mark is capitalized. */
function title(s: string): string {
  let prevSeparator = true;
  let out = "";
  for (const c of s) {
    out += prevSeparator ? c.toUpperCase() : c;
    prevSeparator = !/[\p{L}\p{N}\p{M}_]/u.test(c) && (c.charCodeAt(0) < 0x80 || /\s/u.test(c));
  }
  return out;
}

/** Go's strings.Trim: strips every leading and trailing character found in `cutset`. */
function trim(s: string, cutset: string): string {
  const cut = new Set(cutset);
  const chars = [...s];
  let a = 0, b = chars.length;
  while (a < b && cut.has(chars[a])) a++;
  while (b > a && cut.has(chars[b - 1])) b--;
  return chars.slice(a, b).join("");
}

function split(args: Value[]): string[] {
  const sep = str(args, 0, "separator");
  const s = str(args, 1, "str");
  // Go splits around every UTF-8 sequence when the separator is empty.
  return sep === "" ? [...s] : s.split(sep);
}

/** The plain string family. */
export const STRING_FUNCTIONS: Record<string, HclFunction> = {
  chomp: fn(["str"], (a) => str(a, 0, "str").replace(/(?:\r\n|\r|\n)+$/, "")),
  indent: fn(["spaces", "str"], (a) => {
    const pad = " ".repeat(Math.max(0, int(a, 0, "spaces")));
    return str(a, 1, "str").replaceAll("\n", "\n" + pad);
  }),
  join: variadic(["separator"], "lists", join),
  lower: fn(["str"], (a) => str(a, 0, "str").toLowerCase()),
  upper: fn(["str"], (a) => str(a, 0, "str").toUpperCase()),
  split: fn(["separator", "str"], split),
  strrev: fn(["str"], (a) => graphemes(str(a, 0, "str")).reverse().join("")),
  substr: fn(["str", "offset", "length"], substr),
  title: fn(["str"], (a) => title(str(a, 0, "str"))),
  trim: fn(["str", "cutset"], (a) => trim(str(a, 0, "str"), str(a, 1, "cutset"))),
  trimprefix: fn(["str", "prefix"], (a) => {
    const [s, p] = [str(a, 0, "str"), str(a, 1, "prefix")];
    return s.startsWith(p) ? s.slice(p.length) : s;
  }),
  trimsuffix: fn(["str", "suffix"], (a) => {
    const [s, p] = [str(a, 0, "str"), str(a, 1, "suffix")];
    return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  }),
  trimspace: fn(["str"], (a) => str(a, 0, "str").replace(/^\s+|\s+$/gu, "")),
  startswith: fn(["str", "prefix"], (a) => str(a, 0, "str").startsWith(str(a, 1, "prefix"))),
  endswith: fn(["str", "suffix"], (a) => str(a, 0, "str").endsWith(str(a, 1, "suffix"))),
  strcontains: fn(["str", "substr"], (a) => str(a, 0, "str").includes(str(a, 1, "substr"))),
};
