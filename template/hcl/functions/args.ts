/**
 * Argument checks shared by the function families. Each converts an argument
 * to the type the function's cty signature declares, so a string "3" passes
 * where a number is expected (as in HCL), and names the argument when it
 * cannot.
 */
import { convert, type Type } from "../types.ts";
import { type HclFunction, isObject, type ObjectValue, type Value, ValueError } from "../value.ts";

/** Converts argument `i` to `type`, blaming that argument when it cannot. */
export function arg(args: Value[], i: number, type: Type, name?: string): Value {
  const v = args[i];
  const label = name ? `Invalid value for "${name}" parameter: ` : "";
  if (v === null || v === undefined) throw new ValueError(`${label}argument must not be null`, i);
  try {
    return convert(v, type);
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(label + e.message, i);
    throw e;
  }
}

/** Argument `i` as a string. */
export function str(args: Value[], i: number, name?: string): string {
  return arg(args, i, "string", name) as string;
}

/** Argument `i` as a number. */
export function num(args: Value[], i: number, name?: string): number {
  return arg(args, i, "number", name) as number;
}

/** Argument `i` as a whole number. */
export function int(args: Value[], i: number, name?: string): number {
  const n = num(args, i, name);
  if (!Number.isInteger(n)) throw new ValueError(`${name ?? "value"} must be a whole number`, i);
  return n;
}

/** Argument `i` as a bool. */
export function bool(args: Value[], i: number, name?: string): boolean {
  return arg(args, i, "bool", name) as boolean;
}

/** Argument `i` as a list/tuple/set (any element type). */
export function list(args: Value[], i: number, name?: string): Value[] {
  const v = args[i];
  if (!Array.isArray(v)) {
    throw new ValueError(
      `${name ? `Invalid value for "${name}" parameter: ` : ""}list of any type required`,
      i,
    );
  }
  return v;
}

/** Argument `i` as a list of strings. */
export function strings(args: Value[], i: number, name?: string): string[] {
  return arg(args, i, { list: "string" }, name) as string[];
}

/** Argument `i` as an object or map. */
export function obj(args: Value[], i: number, name?: string): ObjectValue {
  const v = args[i];
  if (!isObject(v)) {
    throw new ValueError(
      `${name ? `Invalid value for "${name}" parameter: ` : ""}map of any type required`,
      i,
    );
  }
  return v;
}

/** Shorthand for a function with fixed parameters. */
export function fn(params: readonly string[], call: HclFunction["call"]): HclFunction {
  return { params, call };
}

/** Shorthand for a function whose last parameter takes the rest of the arguments. */
export function variadic(
  params: readonly string[],
  rest: string,
  call: HclFunction["call"],
): HclFunction {
  return { params, variadic: rest, call };
}
