/**
 * Placeholder until the function-library branch lands its full conversion rules.
 */
import { isObject, type Value, ValueError } from "./value.ts";

/** An HCL type constraint. */
export type Type =
  | "string"
  | "number"
  | "bool"
  | "any"
  | { list: Type }
  | { set: Type }
  | { map: Type }
  | { object: Record<string, Type>; optional?: string[] }
  | { tuple: Type[] };

/** Converts a value to a type as HCL does, or throws ValueError. */
export function convert(value: Value, type: Type): Value {
  if (value === null || type === "any") return value;
  if (type === "string") {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw new ValueError("string required");
  }
  if (type === "number") {
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
      return Number(value);
    }
    throw new ValueError("a number is required");
  }
  if (type === "bool") {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw new ValueError("a bool is required");
  }
  if ("list" in type || "set" in type) {
    if (!Array.isArray(value)) {
      throw new ValueError(
        "list of " + typeString((type as { list: Type }).list ?? (type as { set: Type }).set) +
          " required",
      );
    }
    const el = "list" in type ? type.list : type.set;
    return value.map((v) => convert(v, el));
  }
  if ("map" in type) {
    if (!isObject(value)) throw new ValueError("map of " + typeString(type.map) + " required");
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, type.map)]));
  }
  if ("tuple" in type) {
    if (!Array.isArray(value) || value.length !== type.tuple.length) {
      throw new ValueError(`tuple required`);
    }
    return value.map((v, i) => convert(v, type.tuple[i]));
  }
  if (!isObject(value)) throw new ValueError("object required");
  const out: Record<string, Value> = {};
  for (const [k, t] of Object.entries(type.object)) {
    if (!Object.hasOwn(value, k)) {
      if (type.optional?.includes(k)) out[k] = null;
      else throw new ValueError(`attribute "${k}" is required`);
    } else out[k] = convert(value[k], t);
  }
  return out;
}

/** A type as HCL writes it. */
export function typeString(t: Type): string {
  if (typeof t === "string") return t;
  if ("list" in t) return `list(${typeString(t.list)})`;
  if ("set" in t) return `set(${typeString(t.set)})`;
  if ("map" in t) return `map(${typeString(t.map)})`;
  if ("tuple" in t) return `tuple([${t.tuple.map(typeString).join(", ")}])`;
  return `object({${
    Object.entries(t.object).map(([k, v]) => `${k}=${typeString(v)}`).join(", ")
  }})`;
}
