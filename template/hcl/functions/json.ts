/**
 * JSON as Go's encoding/json writes it for cty values: object keys sorted,
 * no spaces, "<", ">" and "&" escaped (\u003c ...), numbers in plain decimal.
 */
import { numberToString } from "../types.ts";
import { isObject, type Value } from "../value.ts";

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

function quote(s: string): string {
  return JSON.stringify(s).replace(
    HTML_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Encodes a value as Packer's `jsonencode` does. */
export function goJson(v: Value): string {
  if (v === null) return "null";
  if (typeof v === "string") return quote(v);
  if (typeof v === "number") return numberToString(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(goJson).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v).sort().map((k) => `${quote(k)}:${goJson(v[k])}`).join(",")}}`;
  }
  return "null";
}
