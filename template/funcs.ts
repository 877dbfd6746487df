/**
 * The functions available inside `{{ }}`: Packer's own (user, env, isotime,
 * split, build, ...) plus the Go text/template builtins (go_builtins.ts).
 */
import { PACKER_COMPAT_VERSION } from "../version.ts";
import { formatGoTime, formatStrftime, RFC3339 } from "./time_format.ts";
import { type GoInt, goString } from "./engine_values.ts";
import { FuncError, type FuncSpec, type ParamKind } from "./func_types.ts";
import { GO_BUILTINS } from "./go_builtins.ts";
import type { RenderBudget } from "./render_budget.ts";

export { FuncError } from "./func_types.ts";
export type { FuncContext, FuncSpec, ParamKind } from "./func_types.ts";

/** The message `user` gives while variables resolve; the resolver retries on it. */
/** `build` keys only a build with a communicator has; absent ones render `<no value>`. */
const CONNECTION_BUILD_KEYS = new Set([
  "Host",
  "Port",
  "User",
  "Password",
  "ConnType",
  "SSHPublicKey",
  "SSHPrivateKey",
  "WinRMPassword",
]);

export const VARIABLE_NOT_SET = "variable not set:";

/** Packer's InitTime: one timestamp per process run. */
export const INIT_TIME = new Date();

/**
 * Makes `timestamp`/`isotime` answer with the time a run started: a resumed
 * run must render `ami_name: "x-{{timestamp}}"` exactly as the crashed
 * process did, or it could not find what that process created.
 */
export function restoreInitTime(iso: string): void {
  const ms = Date.parse(iso);
  if (Number.isFinite(ms)) INIT_TIME.setTime(ms);
}

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
export function cleanResourceName(s: string, budget?: RenderBudget): string {
  const bytes = new TextEncoder().encode(s.toLowerCase());
  budget?.check(bytes.length);
  let out = "";
  for (const b of bytes) {
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
        // A connection fact the build does not have (communicator "none"):
        // Packer 1.6.6 renders its missing map entry as `<no value>`.
        if (CONNECTION_BUILD_KEYS.has(key)) return undefined;
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
    call(args, ctx) {
      if (args.length > 1) {
        throw new FuncError(`too many values, 1 needed: [${args.map(goString).join(" ")}]`);
      }
      const check = (n: number) => ctx.budget.check(n);
      return formatGoTime(INIT_TIME, args.length === 0 ? RFC3339 : str(args[0]), check);
    },
  },
  strftime: {
    params: ["string"],
    call: ([f], ctx) => formatStrftime(INIT_TIME, str(f), (n) => ctx.budget.check(n)),
  },
  upper: {
    params: ["string"],
    call: ([s], ctx) => ctx.budget.mapChunks(str(s), (c) => c.toUpperCase()),
  },
  lower: {
    params: ["string"],
    call: ([s], ctx) => ctx.budget.mapChunks(str(s), (c) => c.toLowerCase()),
  },
  replace: {
    params: ["string", "string", "int", "string"],
    call([oldS, newS, n, s], ctx) {
      return goReplace(str(s), str(oldS), str(newS), int(n), ctx.budget);
    },
  },
  replace_all: {
    params: ["string", "string", "string"],
    call: ([oldS, newS, s], ctx) => goReplace(str(s), str(oldS), str(newS), -1, ctx.budget),
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
  clean_resource_name: {
    params: ["string"],
    call: ([s], ctx) => cleanResourceName(str(s), ctx.budget),
  },
  vault: unsupported("vault", ["string", "string"]),
  consul_key: unsupported("consul_key", ["string"]),
  aws_secretsmanager: { ...unsupported("aws_secretsmanager", ["string"]), variadic: "string" },
};

/**
 * Go's strings.Replace: n < 0 replaces all; an empty `old` matches between
 * runes. The result is checked against the budget as it grows: replacing
 * with a longer string multiplies its input.
 */
function goReplace(s: string, oldS: string, newS: string, n: number, budget: RenderBudget): string {
  if (n === 0 || oldS === newS) return s;
  let out = "";
  let done = 0;
  const more = () => n < 0 || done < n;
  if (oldS === "") {
    let i = 0;
    for (const rune of s) {
      if (more()) {
        budget.check(out.length + newS.length);
        out += newS;
        done++;
      }
      out += rune;
      i += rune.length;
      if (!more()) return out + s.slice(i);
    }
    if (more()) {
      budget.check(out.length + newS.length);
      out += newS;
    }
    return out;
  }
  let from = 0;
  while (more()) {
    const at = s.indexOf(oldS, from);
    if (at < 0) break;
    budget.check(out.length + (at - from) + newS.length);
    out += s.slice(from, at) + newS;
    from = at + oldS.length;
    done++;
  }
  budget.check(out.length + s.length - from);
  return out + s.slice(from);
}

/** Go's strings.Split: an empty separator splits into runes. */
function goSplit(s: string, sep: string): string[] {
  return sep === "" ? [...s] : s.split(sep);
}

/** Every function a template may call, by name. */
export const FUNCS: Readonly<Record<string, FuncSpec>> = { ...GO_BUILTINS, ...packerFuncs };
