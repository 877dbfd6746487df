/**
 * Collection functions on lists and maps: chunklist coalesce coalescelist
 * compact concat contains element flatten index keys length lookup merge
 * range reverse slice sort sum transpose values zipmap alltrue anytrue one.
 * The set functions and distinct are in sets.ts.
 */
import { unifyAll, valueKey } from "../types.ts";
import {
  type HclFunction,
  isObject,
  type ObjectValue,
  typeName,
  type Value,
  ValueError,
} from "../value.ts";
import { arg, bool, fn, int, list, num, obj, str, strings, variadic } from "./args.ts";
import { graphemes } from "./string.ts";

function element(a: Value[]): Value {
  const items = list(a, 0, "list");
  const i = int(a, 1, "index");
  if (items.length === 0) throw new ValueError("cannot use element function with an empty list", 0);
  if (i < 0) throw new ValueError("cannot use element function with a negative index", 1);
  return items[i % items.length];
}

function flatten(items: Value[]): Value[] {
  return items.flatMap((v) => Array.isArray(v) ? flatten(v) : [v]);
}

function length(a: Value[]): number {
  const v = a[0];
  if (v === null) {
    throw new ValueError(`Invalid value for "value" parameter: argument must not be null`, 0);
  }
  if (typeof v === "string") return graphemes(v).length;
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw new ValueError(
    "argument must be a string, a collection type, or a structural type",
    0,
  );
}

function range(a: Value[]): number[] {
  if (a.length < 1 || a.length > 3) throw new ValueError("range requires 1, 2 or 3 arguments");
  const nums = a.map((_, i) => num(a, i, "params"));
  const [start, end] = nums.length === 1 ? [0, nums[0]] : [nums[0], nums[1]];
  const step = nums[2] ?? (start > end ? -1 : 1);
  if ((start < end && step < 0) || (start > end && step > 0)) {
    throw new ValueError(
      `Invalid value for "params" parameter: end must be ${
        step < 0 ? "less" : "greater"
      } than start when step is ${step < 0 ? "negative" : "positive"}`,
      2,
    );
  }
  const out: number[] = [];
  for (let v = start; step >= 0 ? v < end : v > end; v += step) {
    if (out.length >= 1024) {
      throw new ValueError(
        "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
      );
    }
    out.push(v);
  }
  return out;
}

function slice(a: Value[]): Value[] {
  const items = list(a, 0, "list");
  const start = int(a, 1, "start_index");
  const end = int(a, 2, "end_index");
  if (start < 0) {
    throw new ValueError(
      `Invalid value for "start_index" parameter: start index must not be less than zero`,
      1,
    );
  }
  if (end > items.length) {
    throw new ValueError(
      `Invalid value for "end_index" parameter: end index must not be greater than the length of the list`,
      2,
    );
  }
  if (start > end) {
    throw new ValueError(
      `Invalid value for "start_index" parameter: start index must not be greater than end index`,
      1,
    );
  }
  return items.slice(start, end);
}

function lookup(a: Value[]): Value {
  const map = obj(a, 0, "inputMap");
  const key = str(a, 1, "key");
  const found = Object.hasOwn(map, key) ? map[key] : a[2];
  return unifyAll([found, a[2]])[0];
}

function transpose(a: Value[]): ObjectValue {
  const input = arg(a, 0, { map: { list: "string" } }, "values") as Record<string, string[]>;
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(input).sort()) {
    for (const v of input[k] ?? []) {
      if (v === null) throw new ValueError("lists must not contain null values", 0);
      (out[v] ??= []).push(k);
    }
  }
  return out;
}

function bools(a: Value[], name: string): boolean[] {
  return list(a, 0, name).map((v) => v === null ? false : bool([v], 0, name));
}

/** The list and map family. */
export const COLLECTION_FUNCTIONS: Record<string, HclFunction> = {
  chunklist: fn(["list", "size"], (a) => {
    const items = list(a, 0, "list");
    const size = int(a, 1, "size");
    if (size < 0) throw new ValueError("the size argument must be positive", 1);
    if (size === 0) return [items];
    const out: Value[] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }),
  coalesce: variadic([], "vals", (a) => {
    let unified: Value[];
    try {
      unified = unifyAll(a);
    } catch {
      throw new ValueError("all arguments must have the same type");
    }
    const found = unified.find((v) => v !== null && v !== "");
    if (found === undefined) throw new ValueError("no non-null, non-empty-string arguments");
    return found;
  }),
  coalescelist: variadic([], "vals", (a) => {
    if (a.length === 0) throw new ValueError("at least one argument is required");
    a.forEach((v, i) => v !== null && list(a, i, "vals"));
    const found = a.find((v) => Array.isArray(v) && v.length > 0);
    if (found === undefined) throw new ValueError("no non-null arguments");
    return found;
  }),
  compact: fn(["list"], (a) => {
    const items = arg(a, 0, { list: "string" }, "list") as (string | null)[];
    return items.filter((v) => v !== null && v !== "");
  }),
  concat: variadic([], "seqs", (a) => {
    if (a.length === 0) throw new ValueError("at least one argument is required");
    return a.flatMap((_, i) => list(a, i, "seqs"));
  }),
  contains: fn(["list", "value"], (a) => {
    const key = valueKey(a[1]);
    return list(a, 0, "list").some((v) => valueKey(v) === key);
  }),
  element: fn(["list", "index"], element),
  flatten: fn(["list"], (a) => flatten(list(a, 0, "list"))),
  index: fn(["list", "value"], (a) => {
    const key = valueKey(a[1]);
    const i = list(a, 0, "list").findIndex((v) => valueKey(v) === key);
    if (i < 0) throw new ValueError("item not found", 1);
    return i;
  }),
  keys: fn(["inputMap"], (a) => Object.keys(obj(a, 0, "inputMap")).sort()),
  length: fn(["value"], length),
  lookup: fn(["inputMap", "key", "default"], lookup),
  merge: variadic([], "maps", (a) => {
    const out: ObjectValue = {};
    a.forEach((v, i) => v !== null && Object.assign(out, obj(a, i, "maps")));
    return out;
  }),
  range: variadic([], "params", range),
  reverse: fn(["list"], (a) => {
    if (!Array.isArray(a[0])) {
      throw new ValueError(
        `Invalid value for "list" parameter: can only reverse list or tuple values, not ${
          typeName(a[0])
        }`,
        0,
      );
    }
    return [...a[0]].reverse();
  }),
  slice: fn(["list", "start_index", "end_index"], slice),
  sort: fn(["list"], (a) => {
    const items = strings(a, 0, "list");
    if (items.includes(null as unknown as string)) {
      throw new ValueError("given list element is null", 0);
    }
    return [...items].sort((x, y) => x < y ? -1 : x > y ? 1 : 0);
  }),
  sum: fn(["list"], (a) => {
    const items = arg(a, 0, { list: "number" }, "list") as number[];
    if (items.length === 0) throw new ValueError("cannot sum an empty list", 0);
    if (items.includes(null as unknown as number)) {
      throw new ValueError("argument must be list, set, or tuple of number values", 0);
    }
    return items.reduce((x, y) => x + y);
  }),
  transpose: fn(["values"], transpose),
  values: fn(["mapping"], (a) => {
    const map = obj(a, 0, "mapping");
    return Object.keys(map).sort().map((k) => map[k]);
  }),
  zipmap: fn(["keys", "values"], (a) => {
    const keys = strings(a, 0, "keys");
    const vals = list(a, 1, "values");
    if (keys.length !== vals.length) {
      throw new ValueError(
        `number of keys (${keys.length}) does not match number of values (${vals.length})`,
      );
    }
    return Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
  }),
  alltrue: fn(["list"], (a) => bools(a, "list").every(Boolean)),
  anytrue: fn(["list"], (a) => bools(a, "list").some(Boolean)),
  one: fn(["list"], (a) => {
    const items = list(a, 0, "list");
    if (items.length > 1) {
      throw new ValueError(
        `Invalid value for "list" parameter: must be a list, set, or tuple value with either zero or one elements`,
        0,
      );
    }
    return items[0] ?? null;
  }),
};
