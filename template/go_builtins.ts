/**
 * The Go text/template builtins Packer templates inherit: and, or, not, len,
 * index, slice, print, printf, println, html, js, urlquery, eq, ne, lt, le,
 * gt, ge — with Go's formatting and truth rules.
 */
import { FuncError, type FuncSpec } from "./func_types.ts";
import { formatFixed, GoInt, goString, goType, isTrue, plain } from "./engine_values.ts";
import type { RenderBudget } from "./render_budget.ts";

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

/** Go's fmt.parsenum: a width or precision past about 10^7 counts as no number at all. */
function parseGoNum(format: string, at: number): { num: number; end: number } | "overflow" {
  let num = 0;
  let i = at;
  for (; i < format.length && format[i] >= "0" && format[i] <= "9"; i++) {
    if (num > 1e6) return "overflow";
    num = num * 10 + (format.charCodeAt(i) - 48);
  }
  return { num, end: i };
}

/** Lower-case hex of a string's UTF-8 bytes, refused before it is built when too long. */
function hexBytes(s: string, budget: RenderBudget): string {
  const bytes = new TextEncoder().encode(s);
  budget.check(bytes.length * 2);
  let out = "";
  for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
  return out;
}

/** Go's printf, enough for the verbs templates use; the result is checked as it grows. */
function goPrintf(format: string, args: unknown[], budget: RenderBudget): string {
  let out = "";
  let ai = 0;
  const add = (piece: string) => {
    budget.check(out.length + piece.length);
    out += piece;
  };
  const flagsRe = /[-+# 0]*/y;
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%") {
      add(format[i]);
      continue;
    }
    flagsRe.lastIndex = i + 1;
    const flags = flagsRe.exec(format)![0];
    const width = parseGoNum(format, i + 1 + flags.length);
    if (width === "overflow") {
      add("%!(NOVERB)");
      break;
    }
    let at = width.end;
    let prec: number | undefined;
    if (format[at] === ".") {
      const p = parseGoNum(format, at + 1);
      if (p === "overflow") {
        add("%!(NOVERB)");
        break;
      }
      prec = p.num;
      at = p.end;
    }
    // Go takes any rune as the verb ("%!" is verb "!").
    const verb = format.codePointAt(at) === undefined
      ? undefined
      : String.fromCodePoint(format.codePointAt(at)!);
    if (verb === undefined) {
      add("%!(NOVERB)");
      break;
    }
    i = at + verb.length - 1;
    if (verb === "%") {
      add("%");
      continue;
    }
    if (ai >= args.length) {
      add(`%!${verb}(MISSING)`);
      continue;
    }
    const arg = args[ai++];
    const v = plain(arg);
    let s: string;
    switch (verb) {
      case "s":
      case "v":
        s = goString(arg);
        if (prec !== undefined && verb === "s") s = s.slice(0, prec);
        break;
      case "q":
        s = `"${budget.mapChunks(goString(arg), (c) => JSON.stringify(c).slice(1, -1))}"`;
        break;
      case "d":
        s = typeof v === "number" ? String(Math.trunc(v)) : `%!d(${goType(arg)}=${goString(arg)})`;
        break;
      case "x":
      case "X":
        s = typeof v === "number" ? Math.trunc(v).toString(16) : hexBytes(goString(arg), budget);
        if (verb === "X") s = budget.mapChunks(s, (c) => c.toUpperCase());
        break;
      case "f":
        s = typeof v === "number" ? formatFixed(v, prec ?? 6) : goString(arg);
        break;
      case "t":
        s = typeof v === "boolean" ? String(v) : `%!t(${goType(arg)}=${goString(arg)})`;
        break;
      default:
        s = `%!${verb}(${goType(arg)}=${goString(arg)})`;
    }
    const w = width.num;
    if (s.length < w) {
      budget.check(out.length + w);
      const zeros = flags.includes("0") && verb !== "s" && !flags.includes("-");
      const sign = zeros && /^[-+]/.test(s) ? s[0] : "";
      s = flags.includes("-")
        ? s.padEnd(w)
        : sign + s.slice(sign.length).padStart(w - sign.length, zeros ? "0" : " ");
    }
    add(s);
  }
  if (ai < args.length) {
    add(`%!(EXTRA ${args.slice(ai).map((a) => `${goType(a)}=${goString(a)}`).join(", ")})`);
  }
  return out;
}

/** Go's fmt.Sprint: spaces between operands when neither side is a string. */
function goSprint(args: unknown[], budget: RenderBudget): string {
  let out = "";
  args.forEach((a, i) => {
    const piece = (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string" ? " " : "") +
      goString(a);
    budget.check(out.length + piece.length);
    out += piece;
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
  print: { params: [], variadic: "any", call: (args, ctx) => goSprint(args, ctx.budget) },
  println: {
    params: [],
    variadic: "any",
    call(args, ctx) {
      const pieces = args.map(goString);
      ctx.budget.check(pieces.reduce((n, p) => n + p.length + 1, 0));
      return pieces.join(" ") + "\n";
    },
  },
  printf: {
    params: ["string"],
    variadic: "any",
    call: ([f, ...a], ctx) => goPrintf(str(f), a, ctx.budget),
  },
  html: {
    params: [],
    variadic: "any",
    call: (args, ctx) =>
      ctx.budget.mapChunks(
        goSprint(args, ctx.budget),
        (c) => c.replace(/[<>&'"\0]/g, (ch) => htmlEscapes[ch]),
      ),
  },
  js: {
    params: [],
    variadic: "any",
    call: (args, ctx) =>
      ctx.budget.mapChunks(goSprint(args, ctx.budget), (chunk) =>
        chunk.replace(
          /[\\'"<>&=]/g,
          (c) =>
            c === "\\" || c === "'" || c === '"'
              ? "\\" + c
              : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
        )),
  },
  urlquery: {
    params: [],
    variadic: "any",
    call: (args, ctx) =>
      ctx.budget.mapChunks(goSprint(args, ctx.budget), (chunk) =>
        // A lone surrogate (a JSON "\ud800") is U+FFFD to Go; encodeURIComponent would throw.
        encodeURIComponent(chunk.toWellFormed()).replace(/%20/g, "+").replace(
          /[!'()*]/g,
          (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
        )),
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
