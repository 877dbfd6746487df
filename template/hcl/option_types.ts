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
import { convert, friendlyName, type Type } from "./types.ts";
import { type Value, ValueError } from "./value.ts";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The HCL type a field takes; undefined: anything goes. */
function typeOf(spec: FieldSpec): Type | undefined {
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
      return { list: "string" };
    case "string_lists":
      return { list: { list: "string" } };
    case "string_map":
      return { map: "string" };
    default:
      return undefined;
  }
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
    const type = typeOf(spec);
    // A string for a number or bool is the decoder's to read (it may hold a Go template).
    if (!type || (typeof value === "string" && (type === "number" || type === "bool"))) continue;
    try {
      out[key] = convert(value as Value, type);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      report(
        at,
        `Incorrect attribute value type: Inappropriate value for attribute "${key}": ${
          friendlyName(type)
        } required.`,
      );
    }
  }
  return out;
}
