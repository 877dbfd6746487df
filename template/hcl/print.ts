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
