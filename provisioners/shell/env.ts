/**
 * Packer's environment-variable flattening for the shell provisioner:
 * defaults (PACKER_BUILD_NAME, PACKER_BUILDER_TYPE), then `environment_vars`,
 * then `env` (which wins on duplicates); values single-quote escaped; keys
 * sorted; each rendered with `env_var_format` (a printf "%s…%s" pattern).
 */

/** Inputs to the flattening. */
export interface EnvInput {
  buildName: string;
  builderType: string;
  environmentVars?: string[];
  env?: Record<string, string>;
  /** Packer's PACKER_HTTP_ADDR, when the builder serves files. */
  httpAddr?: string;
}

/** Escapes single quotes so a value survives inside '…'. */
export function escapeSingleQuotes(value: string): string {
  return value.replaceAll("'", `'"'"'`);
}

/** Applies a printf-style format with two %s verbs. */
export function formatEnvVar(format: string, key: string, value: string): string {
  const args = [key, value];
  let i = 0;
  return format.replace(/%%|%s/g, (verb) => verb === "%%" ? "%" : (args[i++] ?? "%!s(MISSING)"));
}

/** The key/value pairs, sorted by key, values escaped. */
export function envPairs(input: EnvInput): [string, string][] {
  const vars = new Map<string, string>();
  vars.set("PACKER_BUILD_NAME", input.buildName);
  vars.set("PACKER_BUILDER_TYPE", input.builderType);
  if (input.httpAddr) vars.set("PACKER_HTTP_ADDR", input.httpAddr);
  for (const kv of input.environmentVars ?? []) {
    const eq = kv.indexOf("=");
    vars.set(kv.slice(0, eq), escapeSingleQuotes(kv.slice(eq + 1)));
  }
  for (const [k, v] of Object.entries(input.env ?? {})) vars.set(k, escapeSingleQuotes(v));
  return [...vars.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

/** The flattened string for `{{.Vars}}` or the env-var file. */
export function flattenEnv(input: EnvInput, format: string): string {
  return envPairs(input).map(([k, v]) => formatEnvVar(format, k, v)).join("");
}

/** Problems with `environment_vars` entries (not `key=value`, or an empty key). */
export function badEnvironmentVars(vars: unknown): string[] {
  if (!Array.isArray(vars)) return [];
  return vars.filter((kv) => typeof kv !== "string" || kv.indexOf("=") <= 0).map(String);
}
