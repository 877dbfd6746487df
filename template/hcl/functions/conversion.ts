/**
 * Type conversion functions: tobool tolist tomap tonumber toset tostring.
 * Each applies convert() with its target type; null converts to null.
 */
import { convert, type Type, typeString } from "../types.ts";
import { type HclFunction, typeName, type Value, ValueError } from "../value.ts";
import { fn } from "./args.ts";

function primitiveHint(v: Value, type: string): string {
  if (type === "number") {
    return `cannot convert ${
      JSON.stringify(v)
    } to number; given string must be a decimal representation of a number`;
  }
  return `cannot convert ${
    JSON.stringify(v)
  } to bool; only the strings "true" or "false" are allowed`;
}

function to(type: Type): HclFunction {
  return fn(["v"], (a) => {
    const v = a[0];
    try {
      return convert(v, type);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      const target = typeString(type);
      if (typeof v === "string" && (type === "number" || type === "bool")) {
        throw new ValueError(`Invalid value for "v" parameter: ${primitiveHint(v, type)}`, 0);
      }
      const from = typeName(v);
      const why = typeof type === "string"
        ? `cannot convert ${from} to ${target}`
        : `cannot convert ${from} to ${
          target.replace("(any)", " of any single type")
        }: ${e.message}`;
      throw new ValueError(`Invalid value for "v" parameter: ${why}`, 0);
    }
  });
}

/** The conversion family. */
export const CONVERSION_FUNCTIONS: Record<string, HclFunction> = {
  tobool: to("bool"),
  tolist: to({ list: "any" }),
  tomap: to({ map: "any" }),
  tonumber: to("number"),
  toset: to({ set: "any" }),
  tostring: to("string"),
};
