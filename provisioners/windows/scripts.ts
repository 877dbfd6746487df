/**
 * What a Windows provisioner runs: `script`, `scripts` or `inline`, checked
 * with Packer's rules and messages (script and scripts are exclusive, and
 * files cannot be mixed with inline commands), and inline commands written
 * to one temporary file, a line each, as Packer writes them.
 */
import { inlineScript, writeTempScript } from "../shared/inline_script.ts";
import { checkScriptFiles } from "../shared/script_files.ts";

const given = (v: unknown) => v !== undefined && v !== "";
const nonEmptyList = (v: unknown) => Array.isArray(v) && v.length > 0;

/** Reports a bad combination of script/scripts/inline and script files that do not exist. */
export function checkWindowsScripts(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const hasScript = given(config.script);
  const hasScripts = nonEmptyList(config.scripts);
  const hasInline = nonEmptyList(config.inline);
  if (hasScript && hasScripts) {
    report("scripts", "Only one of script or scripts can be specified.");
  }
  if (!hasScript && !hasScripts && !hasInline) {
    report("inline", "Either a script file or inline script must be specified.");
  } else if ((hasScript || hasScripts) && hasInline) {
    report("inline", "Only a script file or an inline script can be specified, not both.");
  }
  // Like Packer, `script` replaces `scripts`, so only its file is checked then.
  checkScriptFiles(hasScript ? { script: config.script } : { scripts: config.scripts }, report);
}

/** The scripts to upload, in order, and the temporary inline file to remove afterwards. */
export interface WindowsScripts {
  paths: string[];
  temp?: string;
}

/** Collects the scripts of a decoded config, writing `inline` to a temporary file. */
export async function windowsScripts(
  config: Record<string, unknown>,
  prefix: string,
): Promise<WindowsScripts> {
  if (typeof config.script === "string" && config.script !== "") return { paths: [config.script] };
  if (nonEmptyList(config.scripts)) return { paths: (config.scripts as unknown[]).map(String) };
  const lines = Array.isArray(config.inline) ? config.inline.map(String) : [];
  const temp = await writeTempScript(inlineScript(lines, ""), { prefix });
  return { paths: [temp], temp };
}
