/**
 * A readable trace of what a WinRM client asks the test listener to run:
 * one entry per command, with any `-EncodedCommand` script decoded, so a
 * client kiln did not write (Packer, pywinrm) can be studied and its
 * command lines emulated faithfully.
 */
import { decodePowerShell } from "../../../communicators/winrm_scripts.ts";

/** One log entry: the shell, the command line, and the decoded script indented below it. */
export function describeCommand(shellId: string, commandLine: string): string {
  const script = decodePowerShell(commandLine);
  const head = `[${new Date().toISOString()}] shell ${shellId.slice(0, 8)}: ${commandLine}`;
  if (script === undefined) return `${head}\n`;
  return `${head}\n  decoded: ${script.replaceAll("\n", "\n  | ")}\n`;
}

/** A log sink: `-` for stderr, otherwise a file appended to. */
export function commandLogTo(target: string): (text: string) => void {
  const encoder = new TextEncoder();
  if (target === "-") return (text) => Deno.stderr.writeSync(encoder.encode(text));
  return (text) => Deno.writeTextFileSync(target, text, { append: true });
}

/** The sink `KILN_WINRM_LOG` names (see commandLogTo); undefined when unset. */
export function commandLogFromEnv(): ((text: string) => void) | undefined {
  let target: string | undefined;
  try {
    target = Deno.env.get("KILN_WINRM_LOG");
  } catch {
    return undefined; // no --allow-env: no logging
  }
  return target ? commandLogTo(target) : undefined;
}
