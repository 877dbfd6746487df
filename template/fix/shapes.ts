/**
 * How Packer 1.6.6's fixers see a template: they decode parts of it with
 * mapstructure, and what that decoder refuses, lifts or leaves as null is
 * what `packer fix` writes back. These helpers reproduce those decodes on
 * the plain JSON value (mutating in place, as the result replaces the part
 * anyway), so every fixer reads like Packer's and outputs agree.
 */
import { isObject } from "../values.ts";

/** A JSON object as the fixers see it. */
export type Json = Record<string, unknown>;

/** A fixer refused the template (Packer: "Error fixing: ..."). */
export class FixError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = "FixError";
  }
}

/** mapstructure's name for a value's kind, as its errors print it. */
function goKind(v: unknown): string {
  if (Array.isArray(v)) return "slice";
  if (isObject(v)) return "map";
  if (typeof v === "number") return "float64";
  return typeof v;
}

/** Reads like Packer's words for the kind: "an object", "a string". */
function plainKind(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (isObject(v)) return "an object";
  return typeof v === "number" ? "a number" : typeof v === "string" ? "a string" : String(v);
}

/**
 * `Builders []map[string]interface{}` decoded strictly: null when the key
 * is missing or null (the fixer then writes `"builders": null`, as Packer's
 * do), else the builder objects (a null element stays null); anything else
 * is refused as Packer's decoder refuses it.
 */
export function builderMaps(input: Json): (Json | null)[] | null {
  const raw = input.builders;
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) {
    throw new FixError(
      "builders",
      `expected an array of builder objects, got ${plainKind(raw)} ` +
        `(Packer: 'Builders': source data must be an array or slice, got ${goKind(raw)})`,
    );
  }
  raw.forEach((b, i) => {
    if (b !== null && !isObject(b)) {
      throw new FixError(
        `builders[${i}]`,
        `expected a builder object, got ${plainKind(b)} ` +
          `(Packer: 'Builders[${i}]' expected a map, got '${goKind(b)}')`,
      );
    }
  });
  return raw as (Json | null)[];
}

/** The builder objects, skipping null elements (which no fixer changes). */
export function eachBuilder(list: (Json | null)[] | null): Json[] {
  return (list ?? []).filter((b): b is Json => b !== null);
}

/**
 * A list decoded weakly into `[]interface{}`: missing, null and `{}` are
 * empty, an array is itself, any other value is lifted into a one-element
 * list (mapstructure's weak decoding).
 */
export function weakList(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw;
  if (isObject(raw) && Object.keys(raw).length === 0) return [];
  return [raw];
}

/**
 * The post-processor objects of a template, flattened out of sequences
 * (Packer's `ppList`); undefined when the template has none (those fixers
 * then leave it as it is). A non-array is refused as Packer refuses it.
 */
export function postProcessorMaps(input: Json): Json[] | undefined {
  const raw = input["post-processors"];
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    throw new FixError(
      "post-processors",
      `expected an array of post-processors, got ${plainKind(raw)} ` +
        `(Packer: 'post-processors': source data must be an array or slice, got ${goKind(raw)})`,
    );
  }
  const out: Json[] = [];
  for (const pp of raw) {
    if (isObject(pp)) out.push(pp);
    else if (Array.isArray(pp)) out.push(...pp.filter(isObject));
  }
  return out;
}

/** Moves `from` to `to` in `obj` when present. */
export function rename(obj: Json, from: string, to: string): void {
  if (!Object.hasOwn(obj, from)) return;
  const v = obj[from];
  delete obj[from];
  obj[to] = v;
}

export { isObject };
