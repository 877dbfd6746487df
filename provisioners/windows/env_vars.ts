/**
 * Environment variables for the Windows provisioners, in Packer's formats:
 * cmd.exe `set` prefixes for windows-shell (values verbatim, as Packer passes
 * them) and `$env:` assignments in a dot-sourced file for powershell (values
 * escaped so a double-quoted PowerShell string keeps them literal).
 */
import { flattenEnvVars, packerEnv, type PackerEnvSource } from "../shared/env_vars.ts";

/** windows-shell's default `env_var_format`: each variable set before the script runs. */
export const CMD_ENV_VAR_FORMAT = `set "%s=%s" && `;

/** powershell's default `env_var_format` (and `elevated_env_var_format`). */
export const POWERSHELL_ENV_VAR_FORMAT = `$env:%s="%s"; `;

/**
 * Escapes what is special inside a double-quoted PowerShell string — `$`,
 * `"`, backtick and `'` — with a backtick, in one pass (so the backticks it
 * adds are never escaped again).
 */
export function escapePowerShell(value: string): string {
  return value.replace(/[$"`']/g, (ch) => "`" + ch);
}

/** The flattened variables for one Windows provisioner run. */
export function windowsEnvVars(
  source: PackerEnvSource,
  environmentVars: unknown,
  format: string,
  escape: (value: string) => string,
): string {
  return flattenEnvVars({
    builtins: packerEnv(source),
    environmentVars: Array.isArray(environmentVars) ? environmentVars.map(String) : [],
    format,
    escape,
  });
}
