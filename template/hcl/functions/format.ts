/**
 * `format` and `formatlist`: Go-fmt-like verbs as HCL's stdlib defines them
 * (%% %v %#v %t %b %d %o %x %X %e %E %f %g %G %s %q), with flags (- + # 0
 * space), width, precision and explicit argument indexes (%[2]s). Messages
 * follow cty's, offsets counting bytes of the format string as Go does.
 */
import { convert } from "../types.ts";
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { str, variadic } from "./args.ts";
import { formatFloat, formatInteger } from "./go_numfmt.ts";
import { goJson } from "./json.ts";

interface Verb {
  flags: string;
  width?: number;
  prec?: number;
  verb: string;
  /** Byte offset of the "%" in the format string. */
  offset: number;
  text: string;
}

const byteLength = (s: string) => new TextEncoder().encode(s).length;

function pad(s: string, v: Verb, zeroOk: boolean): string {
  const len = [...s].length;
  if (v.width === undefined || len >= v.width) return s;
  const fill = v.width - len;
  if (v.flags.includes("-")) return s + " ".repeat(fill);
  if (zeroOk && v.flags.includes("0")) {
    const sign = /^[-+ ]/.test(s) ? s[0] : "";
    const prefix = /^0[xXbo]/.test(s.slice(sign.length)) && v.flags.includes("#")
      ? s.slice(sign.length, sign.length + 2)
      : "";
    const body = s.slice(sign.length + prefix.length);
    return sign + prefix + "0".repeat(fill) + body;
  }
  return " ".repeat(fill) + s;
}

function signed(neg: boolean, body: string, v: Verb): string {
  if (neg) return "-" + body;
  if (v.flags.includes("+")) return "+" + body;
  if (v.flags.includes(" ")) return " " + body;
  return body;
}

function unsupported(v: Verb, why: string): never {
  throw new ValueError(`unsupported value for "${v.text}" at ${v.offset}: ${why}`);
}

function toType(value: Value, type: "string" | "number" | "bool", v: Verb): Value {
  try {
    return convert(value, type);
  } catch (e) {
    if (e instanceof ValueError) unsupported(v, e.message);
    throw e;
  }
}

function formatNumber(n: number, v: Verb): string {
  const neg = n < 0 || Object.is(n, -0);
  const float = "eEfFgG".includes(v.verb) || v.verb === "v";
  if (float) {
    // cty ignores a precision on %v: the number prints in its shortest form.
    const body = v.verb === "v" ? formatFloat(n, "g", undefined) : formatFloat(n, v.verb, v.prec);
    return pad(signed(neg && n !== 0, body, v), v, true);
  }
  if (!Number.isInteger(n)) unsupported(v, "an integer is required");
  const radix = { d: 10, x: 16, X: 16, o: 8, b: 2 }[v.verb]!;
  let body = formatInteger(n, radix, v.verb === "X");
  if (v.prec !== undefined) body = body.padStart(v.prec, "0");
  if (v.flags.includes("#")) {
    body = ({ x: "0x", X: "0X", o: "0", b: "0b", d: "" } as Record<string, string>)[v.verb] + body;
  }
  return pad(signed(n < 0, body, v), v, v.prec === undefined);
}

function formatOne(value: Value, v: Verb): string {
  if (value === null) {
    if (v.verb === "v") return pad("null", v, false);
    unsupported(v, "null value cannot be formatted");
  }
  switch (v.verb) {
    case "v":
      if (v.flags.includes("#")) return pad(goJson(value), v, false);
      if (typeof value === "number") return formatNumber(value, v);
      if (typeof value === "string" || typeof value === "boolean") {
        return pad(String(value), v, true);
      }
      return pad(goJson(value), v, false);
    case "t":
      // cty ignores width and flags for %t.
      return String(toType(value, "bool", v));
    case "s": {
      let s = toType(value, "string", v) as string;
      if (v.prec !== undefined) s = [...s].slice(0, v.prec).join("");
      return pad(s, v, true);
    }
    case "q": {
      let s = toType(value, "string", v) as string;
      if (v.prec !== undefined) s = [...s].slice(0, v.prec).join("");
      return pad(goJson(s), v, false);
    }
    default:
      if (typeof value !== "number" && typeof value !== "string") unsupported(v, "number required");
      return formatNumber(toType(value, "number", v) as number, v);
  }
}

/** Formats `args` by `fmt`; throws ValueError (argument index relative to the call) on misuse. */
export function goFormat(fmt: string, args: Value[], argBase = 1): string {
  let out = "";
  let next = 0;
  let maxUsed = 0;
  let verbs = 0;
  const re = /%([-+# 0]*)(?:\[(\d+)\])?(\d+)?(?:\.(\d*))?(?:\[(\d+)\])?(.?)/gsy;
  let i = 0;
  while (i < fmt.length) {
    const pct = fmt.indexOf("%", i);
    if (pct < 0) {
      out += fmt.slice(i);
      break;
    }
    out += fmt.slice(i, pct);
    re.lastIndex = pct;
    const m = re.exec(fmt)!;
    i = re.lastIndex;
    const offset = byteLength(fmt.slice(0, pct));
    const [text, flags, idx1, width, prec, idx2, verb] = m;
    // cty reports the offset just past the "%" of an unfinished verb.
    if (verb === "") {
      throw new ValueError(`invalid format string starting at offset ${offset + 1}`, 0);
    }
    if (verb === "%") {
      out += "%";
      continue;
    }
    const v: Verb = {
      flags,
      width: width === undefined ? undefined : Number(width),
      prec: prec === undefined ? undefined : Number(prec || "0"),
      verb,
      offset,
      text,
    };
    if (!"vtbdoxXeEfFgGsq".includes(verb)) {
      throw new ValueError(`unsupported format verb '${verb}' in "${text}" at offset ${offset}`, 0);
    }
    verbs++;
    const explicit = idx2 ?? idx1;
    if (explicit !== undefined) next = Number(explicit) - 1;
    if (next >= args.length || next < 0) {
      throw new ValueError(
        `not enough arguments for "${text}" at ${offset}: need index ${
          next + 1
        } but have ${args.length} total`,
      );
    }
    const value = args[next++];
    maxUsed = Math.max(maxUsed, next);
    try {
      out += formatOne(value, v);
    } catch (e) {
      if (e instanceof ValueError) throw new ValueError(e.message, argBase + next - 1);
      throw e;
    }
  }
  if (args.length > maxUsed) {
    const why = verbs === 0 ? "no verbs in format string" : `only ${maxUsed} used by format string`;
    throw new ValueError(
      `Invalid value for "args" parameter: too many arguments; ${why}`,
      argBase + maxUsed,
    );
  }
  return out;
}

function formatList(a: Value[]): Value {
  const fmt = str(a, 0, "format");
  const rest = a.slice(1);
  let length = -1;
  let first = -1;
  rest.forEach((v, i) => {
    if (!Array.isArray(v)) return;
    if (length < 0) [length, first] = [v.length, i];
    else if (v.length !== length) {
      throw new ValueError(
        `Invalid value for "args" parameter: argument ${
          i + 1
        } has length ${v.length}, which is inconsistent with argument ${
          first + 1
        } of length ${length}`,
        i + 1,
      );
    }
  });
  return Array.from(
    { length: Math.max(length, length < 0 ? 1 : 0) },
    (_, row) => goFormat(fmt, rest.map((v) => Array.isArray(v) ? v[row] : v)),
  );
}

/** The formatting family. */
export const FORMAT_FUNCTIONS: Record<string, HclFunction> = {
  format: variadic(["format"], "args", (a) => goFormat(str(a, 0, "format"), a.slice(1))),
  formatlist: variadic(["format"], "args", formatList),
};
