/** Numeric functions: abs ceil floor log max min parseint pow signum. */
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, int, num, str, variadic } from "./args.ts";

function extreme(args: Value[], pick: (a: number, b: number) => number): number {
  if (args.length === 0) throw new ValueError("must pass at least one number");
  return args.map((_, i) => num(args, i, "numbers")).reduce((x, y) => pick(x, y));
}

/** Digit value of `c` in Go's big.Int notation: 0-9, a-z, then A-Z above base 36. */
function digit(c: string, base: number): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 97 + 10;
  if (code >= 65 && code <= 90) return base <= 36 ? code - 65 + 10 : code - 65 + 36;
  return Infinity;
}

function parseInt(args: Value[]): number {
  const text = str(args, 0, "number");
  const base = int(args, 1, "base");
  if (base < 2 || base > 62) {
    throw new ValueError(
      `Invalid value for "base" parameter: base must be a whole number between 2 and 62 inclusive`,
      1,
    );
  }
  const m = /^([-+]?)(.+)$/s.exec(text);
  let value = 0n;
  for (const c of m ? m[2] : "") {
    const d = digit(c, base);
    if (d >= base) {
      throw new ValueError(
        `Invalid value for "number" parameter: cannot parse ${
          JSON.stringify(text)
        } as a base ${base} integer`,
        0,
      );
    }
    value = value * BigInt(base) + BigInt(d);
  }
  if (!m) {
    throw new ValueError(
      `Invalid value for "number" parameter: cannot parse ${
        JSON.stringify(text)
      } as a base ${base} integer`,
      0,
    );
  }
  return Number(m[1] === "-" ? -value : value);
}

/** The numeric family. */
export const NUMERIC_FUNCTIONS: Record<string, HclFunction> = {
  abs: fn(["num"], (a) => Math.abs(num(a, 0, "num"))),
  ceil: fn(["num"], (a) => Math.ceil(num(a, 0, "num"))),
  floor: fn(["num"], (a) => Math.floor(num(a, 0, "num"))),
  log: fn(["num", "base"], (a) => Math.log(num(a, 0, "num")) / Math.log(num(a, 1, "base"))),
  max: variadic([], "numbers", (a) => extreme(a, Math.max)),
  min: variadic([], "numbers", (a) => extreme(a, Math.min)),
  parseint: fn(["number", "base"], parseInt),
  pow: fn(["num", "power"], (a) => Math.pow(num(a, 0, "num"), num(a, 1, "power"))),
  signum: fn(["num"], (a) => Math.sign(num(a, 0, "num")) || 0),
};
