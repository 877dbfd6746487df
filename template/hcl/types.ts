/**
 * HCL type constraints (`list(string)`, `object({a=number})`, ...) and the
 * conversions cty performs to satisfy them: a variable's `type`, the `to*`
 * functions and the functions that unify their arguments all go through
 * `convert`.
 *
 * Values carry no type of their own here (see value.ts), so "tuple vs list"
 * and "object vs map" are decided by the target type alone.
 */
import { isObject, type ObjectValue, type Value, ValueError } from "./value.ts";

/** A primitive type, or `any` (cty's DynamicPseudoType). */
export type PrimitiveType = "string" | "number" | "bool" | "any";

/** An HCL type constraint as data. */
export type Type =
  | PrimitiveType
  | { list: Type }
  | { set: Type }
  | { map: Type }
  | { object: Record<string, Type>; optional?: readonly string[] }
  | { tuple: readonly Type[] };

/** The type as HCL prints it in diagnostics and `type =` expressions. */
export function typeString(t: Type): string {
  if (typeof t === "string") return t;
  if ("list" in t) return `list(${typeString(t.list)})`;
  if ("set" in t) return `set(${typeString(t.set)})`;
  if ("map" in t) return `map(${typeString(t.map)})`;
  if ("tuple" in t) return `tuple([${t.tuple.map(typeString).join(",")}])`;
  const optional = new Set(t.optional ?? []);
  const attrs = Object.keys(t.object).sort().map((k) => {
    const s = typeString(t.object[k]);
    return `${k}=${optional.has(k) ? `optional(${s})` : s}`;
  });
  return `object({${attrs.join(",")}})`;
}

/** cty's "friendly name" of a type, as its mismatch messages say it ("list of string"). */
export function friendlyName(t: Type): string {
  if (typeof t === "string") return t === "any" ? "any type" : t;
  if ("list" in t) return `list of ${friendlyName(t.list)}`;
  if ("set" in t) return `set of ${friendlyName(t.set)}`;
  if ("map" in t) return `map of ${friendlyName(t.map)}`;
  if ("tuple" in t) return "tuple";
  return "object";
}

/**
 * Formats a number as cty turns it into a string: plain decimal notation,
 * never an exponent (1e21 → "1000000000000000000000").
 */
export function numberToString(n: number): string {
  if (!Number.isFinite(n)) {
    throw new ValueError(`cannot convert ${n} to a string`);
  }
  if (Object.is(n, -0)) return "0";
  const s = String(n);
  if (!s.includes("e")) return s;
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Small magnitudes: 1e-7 → "0.0000001".
  const [mant, expText] = s.split("e");
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const point = mant.replace("-", "").indexOf(".");
  const intLen = (point < 0 ? digits.length : point) + exp;
  const body = intLen <= 0
    ? `0.${"0".repeat(-intLen)}${digits}`
    : `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  return (neg ? "-" : "") + body.replace(/\.?0+$/, "");
}

/** Parses a string as cty does when it converts one to a number; undefined when it is not one. */
export function parseNumber(s: string): number | undefined {
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Converts `value` to satisfy `type`, as cty's convert package does, or
 * throws ValueError naming where it failed ("element 1: string required").
 * Null passes through any type.
 */
export function convert(value: Value, type: Type): Value {
  return conv(value, type, []);
}

function fail(path: string[], message: string): never {
  throw new ValueError([...path, message].join(": "));
}

function conv(v: Value, t: Type, path: string[]): Value {
  if (v === null || t === "any") return v;
  if (typeof t === "string") return primitive(v, t, path);
  if ("list" in t) return collection(v, t.list, path, "list");
  if ("set" in t) return toSet(collection(v, t.set, path, "set") as Value[]);
  if ("map" in t) return map(v, t.map, path);
  if ("tuple" in t) return tuple(v, t.tuple, path);
  return object(v, t, path);
}

function primitive(v: Value, t: "string" | "number" | "bool", path: string[]): Value {
  if (typeof v === t || (t === "bool" && typeof v === "boolean")) return v;
  if (t === "string") {
    if (typeof v === "number") return numberToString(v);
    if (typeof v === "boolean") return String(v);
  } else if (t === "number" && typeof v === "string") {
    const n = parseNumber(v);
    if (n === undefined) fail(path, "a number is required");
    return n;
  } else if (t === "bool" && typeof v === "string") {
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    const lower = v.toLowerCase();
    if (lower === "true" || lower === "false") {
      fail(path, `a bool is required; to convert from string, use lowercase "${lower}"`);
    }
    fail(path, "a bool is required");
  }
  fail(path, `${t} required`);
}

function collection(v: Value, elem: Type, path: string[], kind: "list" | "set"): Value[] {
  if (!Array.isArray(v)) fail(path, `${kind} of ${friendlyName(elem)} required`);
  const out = v.map((e, i) => conv(e, elem, [...path, `element ${i}`]));
  return elem === "any" ? unifyAll(out, path) : out;
}

function map(v: Value, elem: Type, path: string[]): Value {
  if (!isObject(v)) fail(path, `map of ${friendlyName(elem)} required`);
  const out: ObjectValue = {};
  for (const k of Object.keys(v)) {
    out[k] = conv(v[k], elem, [...path, `element ${JSON.stringify(k)}`]);
  }
  if (elem !== "any") return out;
  const keys = Object.keys(out);
  const unified = unifyAll(keys.map((k) => out[k]), path);
  return Object.fromEntries(keys.map((k, i) => [k, unified[i]]));
}

function tuple(v: Value, elems: readonly Type[], path: string[]): Value {
  if (!Array.isArray(v)) fail(path, "tuple required");
  if (v.length !== elems.length) fail(path, `tuple required with ${elems.length} elements`);
  return v.map((e, i) => conv(e, elems[i], [...path, `element ${i}`]));
}

function object(
  v: Value,
  t: { object: Record<string, Type>; optional?: readonly string[] },
  path: string[],
) {
  if (!isObject(v)) fail(path, "object required");
  const optional = new Set(t.optional ?? []);
  const out: ObjectValue = {};
  for (const k of Object.keys(t.object).sort()) {
    if (!(k in v)) {
      if (!optional.has(k)) fail(path, `attribute ${JSON.stringify(k)} is required`);
      out[k] = null;
      continue;
    }
    out[k] = conv(v[k], t.object[k], [...path, `attribute ${JSON.stringify(k)}`]);
  }
  return out;
}

/** The kind of a value for unification. */
function kindOf(v: Value): "null" | "string" | "number" | "bool" | "array" | "object" {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "boolean" ? "bool" : (typeof v as "string" | "number");
}

/**
 * Makes the elements of a collection of `any` share one type, as cty's
 * unification does: strings absorb numbers and bools; numbers and bools do
 * not mix; structures must agree in shape.
 */
export function unifyAll(values: Value[], path: string[] = []): Value[] {
  const kinds = new Set(values.map(kindOf));
  kinds.delete("null");
  if (kinds.size <= 1) {
    if (kinds.has("object")) return unifyObjects(values, path);
    if (kinds.has("array")) return unifyArrays(values, path);
    return values;
  }
  const prims = [...kinds].every((k) => k === "string" || k === "number" || k === "bool");
  if (prims && kinds.has("string")) {
    return values.map((v) => v === null ? null : primitive(v, "string", path));
  }
  fail(path, "all elements must have the same type");
}

function unifyObjects(values: Value[], path: string[]): Value[] {
  const objs = values.filter(isObject);
  const keys = Object.keys(objs[0]).sort().join("\0");
  if (objs.every((o) => Object.keys(o).sort().join("\0") === keys)) {
    const names = keys === "" ? [] : keys.split("\0");
    const columns = names.map((k) => unifyAll(objs.map((o) => o[k]), path));
    let row = 0;
    return values.map((v) => {
      if (v === null) return null;
      const r = row++;
      return Object.fromEntries(names.map((k, i) => [k, columns[i][r]]));
    });
  }
  // Differing attribute sets unify as maps: every attribute value one type.
  const all = unifyAll(objs.flatMap((o) => Object.values(o)), path);
  let i = 0;
  return values.map((v) =>
    isObject(v) ? Object.fromEntries(Object.keys(v).map((k) => [k, all[i++]])) : v
  );
}

function unifyArrays(values: Value[], path: string[]): Value[] {
  const arrays = values.filter(Array.isArray) as Value[][];
  const n = arrays[0].length;
  if (arrays.every((a) => a.length === n)) {
    const columns = Array.from({ length: n }, (_, i) => unifyAll(arrays.map((a) => a[i]), path));
    let row = 0;
    return values.map((v) => {
      if (v === null) return null;
      const r = row++;
      return columns.map((c) => c[r]);
    });
  }
  const all = unifyAll(arrays.flat(), path);
  let i = 0;
  return values.map((v) => Array.isArray(v) ? v.map(() => all[i++]) : v);
}

/** A stable key for a value: equal values (structurally) give equal keys. */
export function valueKey(v: Value): string {
  if (isObject(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${valueKey(v[k])}`)}}`;
  }
  if (Array.isArray(v)) return `[${v.map(valueKey).join(",")}]`;
  return JSON.stringify(v);
}

const kindRank: Record<string, number> = { number: 0, string: 1, bool: 2, array: 3, object: 4 };

/**
 * Orders set elements as cty does for primitives: numbers ascending,
 * strings lexically by code unit (cty compares bytes; equal for ASCII),
 * false before true; anything else by its structural key.
 */
export function compareSetElements(a: Value, b: Value): number {
  const ka = kindOf(a), kb = kindOf(b);
  if (ka !== kb) return (kindRank[ka] ?? 5) - (kindRank[kb] ?? 5);
  if (ka === "number") return (a as number) - (b as number);
  if (ka === "bool") return Number(a) - Number(b);
  const sa = ka === "string" ? a as string : valueKey(a);
  const sb = kb === "string" ? b as string : valueKey(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A set value: duplicates removed (structural equality), elements in cty's set order. */
export function toSet(values: Value[]): Value[] {
  const seen = new Map<string, Value>();
  for (const v of values) seen.set(valueKey(v), v);
  return [...seen.values()].sort(compareSetElements);
}
