/**
 * HCL2 decodes a component's attributes by their declared type, with cty's
 * conversions: a number or bool becomes a string ("true", "1.5") and a
 * numeric string a number, but nothing becomes a list, a map or a primitive
 * from a collection. The JSON front end is looser on purpose (Packer's weak
 * decoding splits "a,b" into a list and writes true as "1"), so an HCL2
 * configuration is converted here first, and a value only JSON would take
 * is refused as Packer refuses it.
 */
import type { Report } from "../decode.ts";
import type { ConfigSchema, FieldSpec } from "../schema.ts";
import { childPath } from "../source.ts";
import { numberToString } from "./types.ts";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** HCL's name of the type a field takes ("list of string"); undefined: anything goes. */
function typeName(spec: FieldSpec): string | undefined {
  switch (spec.type) {
    case "string":
    case "duration":
      return "string";
    case "int":
    case "number":
      return "number";
    case "bool":
      return "bool";
    case "string_list":
      return "list of string";
    case "string_lists":
      return "list of list of string";
    case "string_map":
      return "map of string";
    default:
      return undefined;
  }
}

/** Whether cty converts `v` to a primitive of `want`. */
function primitiveFits(v: unknown, want: string): boolean {
  if (typeof v === "string") return true; // a string's content is the decoder's to judge
  if (want === "string") return typeof v === "number" || typeof v === "boolean";
  if (want === "number") return typeof v === "number";
  return typeof v === "boolean";
}

function fits(v: unknown, want: string): boolean {
  if (v === null || v === undefined) return true;
  if (want.startsWith("list of ")) {
    return Array.isArray(v) && v.every((x) => fits(x, want.slice("list of ".length)));
  }
  if (want.startsWith("map of ")) {
    return isObject(v) && Object.values(v).every((x) => fits(x, want.slice("map of ".length)));
  }
  return !Array.isArray(v) && !isObject(v) && primitiveFits(v, want);
}

/** `v` converted as cty converts it to `want` (only called when it fits). */
function convert(v: unknown, want: string): unknown {
  if (v === null || v === undefined) return v;
  if (want.startsWith("list of ")) {
    return (v as unknown[]).map((x) => convert(x, want.slice("list of ".length)));
  }
  if (want.startsWith("map of ")) {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map((
        [k, x],
      ) => [k, convert(x, want.slice("map of ".length))]),
    );
  }
  if (want === "string" && typeof v === "number") return numberToString(v);
  if (want === "string" && typeof v === "boolean") return String(v);
  return v;
}

/**
 * `config` with every attribute converted to its field's type as HCL2
 * does; each one HCL2 would not convert is reported, as Packer words it,
 * and left for the decoder. Nested blocks follow their own schemas;
 * unknown keys are the decoder's to report.
 */
export function hclTypedOptions(
  config: Record<string, unknown>,
  schema: ConfigSchema,
  path: string,
  report: Report,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = value;
    if (!Object.hasOwn(schema.fields, key)) continue;
    const spec = schema.fields[key];
    const at = childPath(path, key);
    if (spec.item && spec.type === "object" && isObject(value)) {
      out[key] = hclTypedOptions(value, spec.item, at, report);
      continue;
    }
    if (spec.item && spec.type === "list_of_objects" && Array.isArray(value)) {
      out[key] = value.map((item, i) =>
        isObject(item) ? hclTypedOptions(item, spec.item!, `${at}[${i}]`, report) : item
      );
      continue;
    }
    const want = typeName(spec);
    if (!want) continue;
    if (fits(value, want)) out[key] = convert(value, want);
    else {
      report(
        at,
        `Incorrect attribute value type: Inappropriate value for attribute "${key}": ${want} required.`,
      );
    }
  }
  return out;
}
