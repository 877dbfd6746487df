/**
 * The functions available inside `{{ }}`: Packer's own (user, env, isotime,
 * split, build, ...) and the Go text/template builtins Packer inherits
 * (printf, len, eq, ...).
 */
import { PACKER_COMPAT_VERSION } from "../version.ts";
import { formatGoTime, formatStrftime, RFC3339 } from "./time_format.ts";
import { GoInt, goString, goType, isTrue, plain } from "./engine_values.ts";

/** What the functions can see while a string renders. */
export interface FuncContext {
  variables: Record<string, string>;
  templateDir: string;
  buildName?: string;
  buildType?: string;
  /** Values for `build \`Key\``; absent until the build's instance exists. */
  buildData?: Record<string, string>;
  /** Rendering a user variable's default: env allowed, unknown `user` is an error. */
  inVariables?: boolean;
}

/** An argument kind a function declares: Go checks them before calling. */
export type ParamKind = "string" | "int" | "any";

/** One template function. */
export interface FuncSpec {
  params: ParamKind[];
  /** Kind of any number of extra arguments (isotime, printf, ...). */
  variadic?: ParamKind;
  call(args: unknown[], ctx: FuncContext): unknown;
}

/** Error raised by a function body; the executor wraps it as `error calling NAME: ...`. */
export class FuncError extends Error {}

/** The message `user` gives while variables resolve; the resolver retries on it. */
export const VARIABLE_NOT_SET = "variable not set:";

/** Packer's InitTime: one timestamp per process run. */
export const INIT_TIME = new Date();

const unsupported = (name: string, params: ParamKind[]): FuncSpec => ({
  params,
  call() {
    throw new FuncError(
      `the ${name} function is valid Packer but not supported yet by kiln; ` +
        `pass the value with -var or -var-file instead`,
    );
  },
});

const str = (v: unknown) => v as string;
const int = (v: unknown) => (v as GoInt).value;

/**
 * clean_resource_name as Packer's Google builder defines it: lower-case, then
 * every byte outside [a-z0-9] becomes "-" (so a multi-byte character becomes
 * several dashes).
 */
export function cleanResourceName(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s.toLowerCase())) {
    const alnum = (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39);
    out += alnum ? String.fromCharCode(b) : "-";
  }
  return out;
}

const packerFuncs: Record<string, FuncSpec> = {
  user: {
    params: ["string"],
    call([k], ctx) {
      const key = str(k);
      if (Object.hasOwn(ctx.variables, key)) return ctx.variables[key];
      if (ctx.inVariables) throw new FuncError(`${VARIABLE_NOT_SET} ${key}`);
      return "";
    },
  },
  env: {
    params: ["string"],
    call([k], ctx) {
      if (!ctx.inVariables) {
        throw new FuncError(
          "env vars are not allowed here (env is only allowed in the default value of a user variable)",
        );
      }
      return Deno.env.get(str(k)) ?? "";
    },
  },
  build_name: {
    params: [],
    call(_, ctx) {
      if (!ctx.buildName) throw new FuncError("build_name not available");
      return ctx.buildName;
    },
  },
  build_type: {
    params: [],
    call(_, ctx) {
      if (!ctx.buildType) throw new FuncError("build_type not available");
      return ctx.buildType;
    },
  },
  build: {
    params: ["string"],
    call([k], ctx) {
      const key = str(k);
      if (!ctx.buildData) {
        throw new FuncError(
          `build \`${key}\` is only available in provisioners and post-processors, once the build runs`,
        );
      }
      if (!Object.hasOwn(ctx.buildData, key)) {
        throw new FuncError(
          `unknown build variable ${key}; available: ${
            Object.keys(ctx.buildData).sort().join(", ")
          }`,
        );
      }
      return ctx.buildData[key];
    },
  },
  template_dir: { params: [], call: (_, ctx) => ctx.templateDir },
  pwd: { params: [], call: () => Deno.cwd() },
  packer_version: {
    params: [],
    call(_, ctx) {
      // Packer 1.6.6 refuses it in variable defaults; kiln answers the same way.
      if (ctx.inVariables) throw new FuncError("packer_version not available");
      return PACKER_COMPAT_VERSION;
    },
  },
  timestamp: { params: [], call: () => String(Math.floor(INIT_TIME.getTime() / 1000)) },
  uuid: { params: [], call: () => crypto.randomUUID() },
  isotime: {
    params: [],
    variadic: "string",
    call(args) {
      if (args.length > 1) {
        throw new FuncError(`too many values, 1 needed: [${args.map(goString).join(" ")}]`);
      }
      return formatGoTime(INIT_TIME, args.length === 0 ? RFC3339 : str(args[0]));
    },
  },
  strftime: { params: ["string"], call: ([f]) => formatStrftime(INIT_TIME, str(f)) },
  upper: { params: ["string"], call: ([s]) => str(s).toUpperCase() },
  lower: { params: ["string"], call: ([s]) => str(s).toLowerCase() },
  replace: {
    params: ["string", "string", "int", "string"],
    call([oldS, newS, n, s]) {
      return goReplace(str(s), str(oldS), str(newS), int(n));
    },
  },
  replace_all: {
    params: ["string", "string", "string"],
    call: ([oldS, newS, s]) => goReplace(str(s), str(oldS), str(newS), -1),
  },
  split: {
    params: ["string", "string", "int"],
    call([s, sep, i]) {
      const parts = goSplit(str(s), str(sep));
      const idx = int(i);
      if (idx < 0 || parts.length <= idx) {
        throw new FuncError(
          `the substring ${idx} was unavailable using the separator value, ${
            str(sep)
          }, only ${parts.length} values were found`,
        );
      }
      return parts[idx];
    },
  },
  clean_resource_name: { params: ["string"], call: ([s]) => cleanResourceName(str(s)) },
  vault: unsupported("vault", ["string", "string"]),
  consul_key: unsupported("consul_key", ["string"]),
  aws_secretsmanager: { ...unsupported("aws_secretsmanager", ["string"]), variadic: "string" },
};

/** Go's strings.Replace: n < 0 replaces all; an empty `old` matches between runes. */
function goReplace(s: string, oldS: string, newS: string, n: number): string {
  if (n === 0 || oldS === newS) return s;
  if (oldS === "") {
    const runes = [...s];
    let out = "";
    let done = 0;
    for (let i = 0; i <= runes.length; i++) {
      if (n < 0 || done < n) {
        out += newS;
        done++;
      }
      if (i < runes.length) out += runes[i];
    }
    return out;
  }
  let out = "";
  let rest = s;
  let done = 0;
  while (n < 0 || done < n) {
    const at = rest.indexOf(oldS);
    if (at < 0) break;
    out += rest.slice(0, at) + newS;
    rest = rest.slice(at + oldS.length);
    done++;
  }
  return out + rest;
}

/** Go's strings.Split: an empty separator splits into runes. */
function goSplit(s: string, sep: string): string[] {
  return sep === "" ? [...s] : s.split(sep);
}

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

const builtins: Record<string, FuncSpec> = {
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

/** Every function a template may call, by name. */
export const FUNCS: Readonly<Record<string, FuncSpec>> = { ...builtins, ...packerFuncs };
