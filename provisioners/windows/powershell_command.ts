/**
 * PowerShell command lines: Packer's default execute_command, and how kiln
 * sends it. cmd.exe (the WinRM shell) has no reliable way to quote a script
 * that itself contains quotes, `&`, `|` or `%`, so a command of the form
 * `powershell -executionpolicy P "<script>"` is sent as
 * `powershell -executionpolicy P -EncodedCommand <base64 UTF-16LE>`, which
 * PowerShell runs identically and cmd.exe cannot mangle.
 */
import { encodePowerShell } from "../../communicators/winrm_scripts.ts";

export { encodePowerShell };

/** Values `execution_policy` accepts (Packer's list). */
export const EXECUTION_POLICIES = [
  "bypass",
  "allsigned",
  "default",
  "remotesigned",
  "restricted",
  "undefined",
  "unrestricted",
  "none",
] as const;

/** Hides progress bars, which PowerShell writes as CLIXML to stderr over WinRM. */
export const PROGRESS_PREAMBLE = "if (Test-Path variable:global:ProgressPreference)" +
  "{set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};";

/**
 * Packer's default execute_command (and elevated_execute_command): dot-source
 * the variables file, invoke the script, exit with its exit code. With
 * policy "none" it is the bare script block, for guests whose shell is
 * PowerShell already.
 */
export function defaultExecuteCommand(policy: string, debugMode: number): string {
  const debug = debugMode !== 0 ? `Set-PsDebug -Trace ${debugMode};` : "";
  const block = `& { ${PROGRESS_PREAMBLE}${debug}. {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }`;
  return policy === "none" ? block : `powershell -executionpolicy ${policy} "${block}"`;
}

const QUOTED_FORM =
  /^(powershell(?:\.exe)?)((?:\s+-(?!c(?:ommand)?\b)\w+(?:\s+[\w.-]+)?)*?)\s+"([^"]*)"\s*$/i;

/**
 * `powershell [-option value ...] "<script>"` → the same options with
 * `-EncodedCommand`; any other command line (a user's own execute_command
 * that does not have that shape) is returned unchanged.
 */
export function encodedCommandLine(commandLine: string): string {
  const m = QUOTED_FORM.exec(commandLine);
  if (!m) return commandLine;
  const [, program, options, script] = m;
  return `${program}${options} -EncodedCommand ${encodePowerShell(script)}`;
}

/**
 * A PowerShell snippet as one cmd.exe command line, as Go's WinRM client
 * (masterzen/winrm `Powershell`) builds it — Packer's windows-restart checks
 * are sent this way: progress bars off, then the script, UTF-16LE base64.
 */
export function powershellEncoded(script: string): string {
  return `powershell.exe -EncodedCommand ${
    encodePowerShell(`$ProgressPreference = 'SilentlyContinue';${script}`)
  }`;
}
