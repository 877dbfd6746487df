/**
 * Values written back as HCL, the way hclwrite lays them out (Packer's
 * `inspect` and `console` show values so): one element per line, object
 * keys quoted with their `=` aligned, two spaces per level.
 */
import { formatNumber } from "./eval.ts";
import { isObject, type Value } from "./value.ts";

/** A quoted HCL string literal. */
export function quoteHcl(s: string): string {
  const body = s.replace(
    /[\\"\n\r\t]/g,
    (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!,
  )
    .replaceAll("${", "$${").replaceAll("%{", "%%{");
  return `"${body}"`;
}

/** `v` as HCL source text. */
export function printValue(v: Value, indent = ""): string {
  if (v === null) return "null";
  if (typeof v === "string") return quoteHcl(v);
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return String(v);
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `${inner}${printValue(x, inner)},\n`).join("")}${indent}]`;
  }
  if (!isObject(v)) return String(v);
  const keys = Object.keys(v);
  if (keys.length === 0) return "{}";
  const quoted = keys.map(quoteHcl);
  const width = Math.max(...quoted.map((k) => k.length));
  return `{\n${
    keys.map((k, i) => `${inner}${quoted[i].padEnd(width)} = ${printValue(v[k], inner)}\n`).join("")
  }${indent}}`;
}

/** How `inspect` shows a value: strings as they are, anything else as HCL text. */
export function displayValue(v: Value): string {
  return typeof v === "string" ? v : printValue(v);
}

/**
 * A value as Packer's `console` prints it (and its `variables` listing):
 * a top-level string as it is, nested strings Go-quoted, integers that fit
 * in 64 bits in full and other numbers in Go's `%g` form (`1e+20`,
 * `1.2345675e+06`), lists one element per line with a trailing comma,
 * objects with sorted, quoted keys (not aligned) and their null attributes
 * left out — Packer converts the value to Go data first, which drops them.
 */
export function formatResult(v: Value): string {
  return formatNested(v, false);
}

function formatNested(v: Value, nested: boolean): string {
  if (v === null) return "null";
  if (typeof v === "string") return nested ? goQuote(v) : v;
  if (typeof v === "number") return goNumber(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `${indentLines(formatNested(x, true))},\n`).join("")}]`;
  }
  if (!isObject(v)) return String(v);
  const keys = Object.keys(v).filter((k) => v[k] !== null).sort(byCodeUnits);
  if (keys.length === 0) return "{}";
  return `{\n${
    keys.map((k) => `${indentLines(`${goQuote(k)} = ${formatNested(v[k], true)}`)}\n`).join("")
  }}`;
}

// Go's sort.Strings compares bytes; for the BMP, UTF-16 code unit order agrees except for
// surrogates, which no realistic key mixes with U+E000..U+FFFF.
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function indentLines(text: string): string {
  return text.split("\n").map((l) => "  " + l).join("\n");
}

const INT64 = 2 ** 63;

/** Go's view of a number: an exact int64 as an integer, anything else as float64 `%g`. */
function goNumber(n: number): string {
  if (Number.isInteger(n) && n >= -INT64 && n < INT64) return BigInt(n).toString();
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (Number.isNaN(n)) return "NaN";
  // %g with the shortest digits: exponent form below 1e-4 or from 1e6 (precision 6 decides).
  const [mantissa, exp] = n.toExponential().split("e");
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return String(n);
}

/** A string quoted as Go's %q does: printable characters kept, others escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const named: Record<string, string> = {
      "\x07": "\\a",
      "\b": "\\b",
      "\f": "\\f",
      "\n": "\\n",
      "\r": "\\r",
      "\t": "\\t",
      "\v": "\\v",
      "\\": "\\\\",
      '"': '\\"',
    };
    if (Object.hasOwn(named, ch)) out += named[ch];
    else if (ch === " " || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}
