/**
 * The Go text/template builtins Packer templates inherit: and, or, not, len,
 * index, slice, print, printf, println, html, js, urlquery, eq, ne, lt, le,
 * gt, ge — with Go's formatting and truth rules.
 */
import { FuncError, type FuncSpec } from "./func_types.ts";
import { GoInt, goString, goType, isTrue, plain } from "./engine_values.ts";

const str = (v: unknown) => v as string;
const int = (v: unknown) => (v as GoInt).value;

function compare(a: unknown, b: unknown, name: string): number {
  const x = plain(a);
  const y = plain(b);
  if (typeof x !== typeof y) throw new FuncError(`incompatible types for comparison`);
  if (typeof x === "number" || typeof x === "string") {
    return x < (y as typeof x) ? -1 : x > (y as typeof x) ? 1 : 0;
  }
  if (name === "eq" || name === "ne") return x === y ? 0 : 1;
  throw new FuncError(`invalid type for comparison`);
}

/** Go's printf, enough for the verbs templates use. */
function goPrintf(format: string, args: unknown[]): string {
  let out = "";
  let ai = 0;
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%") {
      out += format[i];
      continue;
    }
    const m = format.slice(i + 1).match(/^([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])/);
    if (!m) {
      out += "%!(NOVERB)";
      continue;
    }
    i += m[0].length;
    const [, flags, width, prec, verb] = m;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[ai++];
    const v = plain(arg);
    let s: string;
    switch (verb) {
      case "s":
      case "v":
        s = goString(arg);
        if (prec !== undefined && verb === "s") s = s.slice(0, Number(prec));
        break;
      case "q":
        s = JSON.stringify(goString(arg));
        break;
      case "d":
        s = typeof v === "number" ? String(Math.trunc(v)) : `%!d(${goType(arg)}=${goString(arg)})`;
        break;
      case "x":
      case "X":
        s = typeof v === "number"
          ? Math.trunc(v).toString(16)
          : [...new TextEncoder().encode(goString(arg))].map((b) => b.toString(16).padStart(2, "0"))
            .join("");
        if (verb === "X") s = s.toUpperCase();
        break;
      case "f":
        s = typeof v === "number"
          ? v.toFixed(prec === undefined ? 6 : Number(prec))
          : goString(arg);
        break;
      case "t":
        s = typeof v === "boolean" ? String(v) : `%!t(${goType(arg)}=${goString(arg)})`;
        break;
      default:
        s = `%!${verb}(${goType(arg)}=${goString(arg)})`;
    }
    const w = Number(width || 0);
    if (s.length < w) {
      s = flags.includes("-")
        ? s.padEnd(w)
        : s.padStart(w, flags.includes("0") && verb !== "s" ? "0" : " ");
    }
    out += s;
  }
  if (ai < args.length) {
    out += `%!(EXTRA ${args.slice(ai).map((a) => `${goType(a)}=${goString(a)}`).join(", ")})`;
  }
  return out;
}

/** Go's fmt.Sprint: spaces between operands when neither side is a string. */
function goSprint(args: unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += goString(a);
  });
  return out;
}

const htmlEscapes: Record<string, string> = {
  "<": "&lt;",
  ">": "&gt;",
  "&": "&amp;",
  "'": "&#39;",
  '"': "&#34;",
  "\0": "\uFFFD",
};

/** The Go builtins by name. */
export const GO_BUILTINS: Readonly<Record<string, FuncSpec>> = {
  and: {
    params: ["any"],
    variadic: "any",
    call: (args) => args.find((a) => !isTrue(a)) ?? args[args.length - 1],
  },
  or: {
    params: ["any"],
    variadic: "any",
    call: (args) => args.find((a) => isTrue(a)) ?? args[args.length - 1],
  },
  not: { params: ["any"], call: ([a]) => !isTrue(a) },
  len: {
    params: ["any"],
    call([a]) {
      const v = plain(a);
      if (typeof v === "string") return new GoInt(new TextEncoder().encode(v).length);
      if (Array.isArray(v)) return new GoInt(v.length);
      if (v && typeof v === "object") return new GoInt(Object.keys(v).length);
      throw new FuncError(`len of type ${goType(a)}`);
    },
  },
  index: {
    params: ["any"],
    variadic: "any",
    call([item, ...keys]) {
      let cur = plain(item);
      for (const k of keys) {
        const key = plain(k);
        if (typeof cur === "string" && typeof key === "number") {
          const bytes = new TextEncoder().encode(cur);
          if (key < 0 || key >= bytes.length) throw new FuncError(`index out of range: ${key}`);
          cur = bytes[key];
          cur = new GoInt(cur as number);
        } else if (Array.isArray(cur) && typeof key === "number") {
          if (key < 0 || key >= cur.length) throw new FuncError(`index out of range: ${key}`);
          cur = cur[key];
        } else if (cur && typeof cur === "object" && typeof key === "string") {
          cur = (cur as Record<string, unknown>)[key];
        } else throw new FuncError(`can't index item of type ${goType(cur)}`);
      }
      return cur;
    },
  },
  slice: {
    params: ["any"],
    variadic: "int",
    call([item, ...idx]) {
      const v = plain(item);
      if (typeof v !== "string" && !Array.isArray(v)) {
        throw new FuncError(`can't slice item of type ${goType(item)}`);
      }
      const [from, to] = idx.map((i) => int(i));
      if (from !== undefined && (from < 0 || from > v.length)) {
        throw new FuncError(`index out of range: ${from}`);
      }
      if (to !== undefined && (to < (from ?? 0) || to > v.length)) {
        throw new FuncError(`index out of range: ${to}`);
      }
      return v.slice(from ?? 0, to ?? v.length);
    },
  },
  print: { params: [], variadic: "any", call: (args) => goSprint(args) },
  println: { params: [], variadic: "any", call: (args) => args.map(goString).join(" ") + "\n" },
  printf: { params: ["string"], variadic: "any", call: ([f, ...a]) => goPrintf(str(f), a) },
  html: {
    params: [],
    variadic: "any",
    call: (args) => goSprint(args).replace(/[<>&'"\0]/g, (c) => htmlEscapes[c]),
  },
  js: {
    params: [],
    variadic: "any",
    call: (args) =>
      goSprint(args).replace(
        /[\\'"<>&=]/g,
        (c) =>
          c === "\\" || c === "'" || c === '"'
            ? "\\" + c
            : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
      ),
  },
  urlquery: {
    params: [],
    variadic: "any",
    call: (args) =>
      encodeURIComponent(goSprint(args)).replace(/%20/g, "+").replace(
        /[!'()*]/g,
        (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
      ),
  },
  eq: {
    params: ["any", "any"],
    variadic: "any",
    call: ([a, ...bs]) => bs.some((b) => compare(a, b, "eq") === 0),
  },
  ne: { params: ["any", "any"], call: ([a, b]) => compare(a, b, "ne") !== 0 },
  lt: { params: ["any", "any"], call: ([a, b]) => compare(a, b, "lt") < 0 },
  le: { params: ["any", "any"], call: ([a, b]) => compare(a, b, "le") <= 0 },
  gt: { params: ["any", "any"], call: ([a, b]) => compare(a, b, "gt") > 0 },
  ge: { params: ["any", "any"], call: ([a, b]) => compare(a, b, "ge") >= 0 },
};
