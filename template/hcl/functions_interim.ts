/** A few functions until the full library lands. */
import type { HclFunction } from "./value.ts";
import { ValueError } from "./value.ts";

const str = (v: unknown, i: number): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new ValueError("string required", i);
};

/** Interim library. */
export const FUNCTIONS: Record<string, HclFunction> = {
  upper: { params: ["str"], call: ([s]) => str(s, 0).toUpperCase() },
  lower: { params: ["str"], call: ([s]) => str(s, 0).toLowerCase() },
  join: {
    params: ["separator"],
    variadic: "lists",
    call: ([sep, ...lists]) => lists.flatMap((l) => l as string[]).join(str(sep, 0)),
  },
  length: {
    params: ["value"],
    call: ([v]) =>
      Array.isArray(v)
        ? v.length
        : typeof v === "string"
        ? [...v].length
        : Object.keys(v as object).length,
  },
  timestamp: { params: [], call: (_, ctx) => ctx.now.toISOString().replace(/\.\d+Z$/, "Z") },
};
