/** Predicates and conversions on decoded JSON values, as Packer's mapstructure sees them. */

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Go's mapstructure weak string: numbers and bools become text; anything else is not a string. */
export function weakString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  return undefined;
}
