/**
 * Environment variables for shell-family provisioners, flattened into the
 * `{{.Vars}}` string exactly as Packer builds it: builtin PACKER_* variables
 * plus the user's, sorted by name, each value with its single quotes escaped
 * for a single-quoted shell string, printed through `env_var_format`.
 */

/** Packer's `env_var_format` default for shell-local on Unix hosts (and for `shell`). */
export const LOCAL_ENV_VAR_FORMAT = "%s='%s' ";

/** The `shell` provisioner's default with `use_env_var_file`: one export per line. */
export const ENV_VAR_FILE_FORMAT = "export %s='%s'\n";

/** Build data values Packer uses when a builder serves no HTTP directory. */
const NOT_IMPLEMENTED = /^ERR_HTTP_(ADDR|IP|PORT)_NOT_IMPLEMENTED_BY_BUILDER$/;

/**
 * Escapes a value for a single-quoted shell string: `it's` becomes
 * `it'"'"'s` (close quote, double-quoted quote, reopen), as Packer does to
 * user values whatever env_var_format is.
 */
export function escapeSingleQuotes(value: string): string {
  return value.replaceAll("'", `'"'"'`);
}

/**
 * A subset of Go's `fmt.Sprintf` for env_var_format: `%s`/`%v` take the next
 * argument, `%q` quotes it, `%%` is a percent sign; too few or too many
 * arguments render as Go does (`%!s(MISSING)`, `%!(EXTRA string=...)`).
 */
export function goSprintf(format: string, ...args: string[]): string {
  let next = 0;
  const out = format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])/g, (_m, _flags, verb) => {
    if (verb === "%") return "%";
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[next++];
    if (verb === "s" || verb === "v") return arg;
    if (verb === "q") return JSON.stringify(arg);
    return `%!${verb}(string=${arg})`;
  });
  const extra = args.slice(next).map((a) => `string=${a}`);
  return extra.length > 0 ? `${out}%!(EXTRA ${extra.join(", ")})` : out;
}

/** Splits `KEY=value` (the first `=` separates); undefined when malformed. */
export function splitEnvVar(entry: string): [string, string] | undefined {
  const eq = entry.indexOf("=");
  if (eq <= 0) return undefined;
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** Reports every `environment_vars` entry that is not `key=value` (Packer's wording). */
export function checkEnvironmentVars(
  vars: unknown,
  report: (key: string, message: string) => void,
): void {
  if (!Array.isArray(vars)) return;
  for (const entry of vars) {
    if (typeof entry !== "string" || splitEnvVar(entry) === undefined) {
      report(
        "environment_vars",
        `Environment variable not in format 'key=value': ${String(entry)}`,
      );
    }
  }
}

/** Facts about the build that become PACKER_* variables. */
export interface PackerEnvSource {
  buildName: string;
  builderType: string;
  /** Build data (`PackerHTTPAddr`, `PackerHTTPIP`, `PackerHTTPPort` when a builder serves HTTP). */
  buildData?: Record<string, unknown>;
}

/** The variables Packer sets in a script's environment: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE, PACKER_HTTP_*. */
export function packerEnv(source: PackerEnvSource): Record<string, string> {
  const env: Record<string, string> = {
    PACKER_BUILD_NAME: source.buildName,
    PACKER_BUILDER_TYPE: source.builderType,
  };
  const http: [string, string][] = [
    ["PackerHTTPAddr", "PACKER_HTTP_ADDR"],
    ["PackerHTTPIP", "PACKER_HTTP_IP"],
    ["PackerHTTPPort", "PACKER_HTTP_PORT"],
  ];
  for (const [key, name] of http) {
    const value = source.buildData?.[key];
    if (typeof value === "string" && value !== "" && !NOT_IMPLEMENTED.test(value)) {
      env[name] = value;
    }
  }
  return env;
}

/**
 * PACKER_RUN_UUID for a local process: Packer sets it in its own environment,
 * so every process it starts on the host inherits it, but it is not one of
 * the variables a script on the machine gets (Packer 1.6.6's remote
 * environment files do not have it).
 */
export function runUuidEnv(buildData: Record<string, unknown> | undefined): Record<string, string> {
  const uuid = buildData?.PackerRunUUID;
  return typeof uuid === "string" && uuid !== "" ? { PACKER_RUN_UUID: uuid } : {};
}

/** What goes into `{{.Vars}}`. */
export interface EnvVarsInput {
  /** PACKER_* variables (see `packerEnv`). */
  builtins: Record<string, string>;
  /** `environment_vars`: `KEY=value` entries; a later duplicate wins. */
  environmentVars?: readonly string[];
  /** `env`: overrides `environment_vars` entries of the same name. */
  env?: Record<string, string>;
  /** `env_var_format`, e.g. `%s='%s' ` or `export %s='%s'\n`. */
  format: string;
  /**
   * How a user's value is made safe for the target language; default
   * `escapeSingleQuotes` (POSIX shells). PowerShell and cmd.exe need their own.
   */
  escape?: (value: string) => string;
}

/** The merged variables, by name (values unescaped). */
export function mergeEnvVars(input: EnvVarsInput): Record<string, string> {
  const merged: Record<string, string> = { ...input.builtins };
  for (const entry of input.environmentVars ?? []) {
    const pair = splitEnvVar(entry);
    if (pair) merged[pair[0]] = pair[1];
  }
  Object.assign(merged, input.env ?? {});
  return merged;
}

/**
 * The `{{.Vars}}` string: every variable, sorted by name, through the format.
 * Only the user's values are escaped: Packer (shell and shell-local alike)
 * passes the PACKER_* values through verbatim.
 */
export function flattenEnvVars(input: EnvVarsInput): string {
  const vars: Record<string, string> = { ...input.builtins };
  const escape = input.escape ?? escapeSingleQuotes;
  for (const [key, value] of Object.entries(mergeEnvVars({ ...input, builtins: {} }))) {
    vars[key] = escape(value);
  }
  return Object.keys(vars)
    .sort(compareBytes)
    .map((key) => goSprintf(input.format, key, vars[key]))
    .join("");
}

/** Go's sort.Strings order (byte-wise), independent of locale. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
