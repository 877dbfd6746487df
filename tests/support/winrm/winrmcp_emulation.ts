/**
 * The PowerShell Packer 1.6.6's WinRM uploads (packer-community/winrmcp, as
 * vendored by Packer) run after their chunks are in place, executed in
 * TypeScript as Windows PowerShell would run it. winrmcp first appends the
 * file as base64 lines through cmd.exe (`echo <b64> >> "%TEMP%\winrmcp-<id>.tmp"`,
 * handled by the cmd emulator's redirection), then sends this "restore"
 * script, which:
 *
 * - fails with exit 1 when the destination is a directory, removes it when
 *   it is a file, otherwise creates its parent directories;
 * - decodes the temporary file line by line (`[Convert]::FromBase64String`
 *   skips blanks, so cmd's trailing space is harmless) into the destination;
 *   a line that is not base64 is reported and, as the script's
 *   `$writer.write($bytes ...)` does, the previous line's bytes are written
 *   again — the exit code is then 1;
 * - creates an empty destination when no chunk was ever written.
 *
 * A "cleanup" script then removes the temporary file if it is there.
 *
 * Recognition is exact: the script text must be winrmcp's, only the
 * paths may differ, so any other script falls through to the PowerShell
 * subset emulator and fails there loudly.
 */
import { Buffer } from "node:buffer";
import { writeLine } from "./windows_machine.ts";

/** What the restore script may touch. */
export interface WinrmcpIo {
  localPath(windowsPath: string): string;
  stderr(text: string): void;
}

/** winrmcp's restore script, `%s` standing for the temporary and the destination path. */
const RESTORE_TEMPLATE = `
		$tmp_file_path = [System.IO.Path]::GetFullPath("%s")
		$dest_file_path = [System.IO.Path]::GetFullPath("%s".Trim("'"))
		if (Test-Path $dest_file_path) {
			if (Test-Path -Path $dest_file_path -PathType container) {
				Exit 1
			} else {
				rm $dest_file_path
			}
		}
		else {
			$dest_dir = ([System.IO.Path]::GetDirectoryName($dest_file_path))
			New-Item -ItemType directory -Force -ErrorAction SilentlyContinue -Path $dest_dir | Out-Null
		}

		if (Test-Path $tmp_file_path) {
			$reader = [System.IO.File]::OpenText($tmp_file_path)
			$writer = [System.IO.File]::OpenWrite($dest_file_path)
			try {
				for(;;) {
					$base64_line = $reader.ReadLine()
					if ($base64_line -eq $null) { break }
					$bytes = [System.Convert]::FromBase64String($base64_line)
					$writer.write($bytes, 0, $bytes.Length)
				}
			}
			finally {
				$reader.Close()
				$writer.Close()
			}
		} else {
			echo $null > $dest_file_path
		}
	`;

/** winrmcp's cleanup script, `%s` standing for the temporary path. */
const CLEANUP_TEMPLATE = `
		$tmp_file_path = [System.IO.Path]::GetFullPath("%s")
		if (Test-Path $tmp_file_path) {
			Remove-Item $tmp_file_path -ErrorAction SilentlyContinue
		}
	`;

/** A template as a regular expression: its text literally, each `%s` a captured path. */
function templateRegex(template: string): RegExp {
  const literal = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${template.split("%s").map(literal).join('([^"]*)')}$`);
}

const RESTORE = templateRegex(RESTORE_TEMPLATE);
const CLEANUP = templateRegex(CLEANUP_TEMPLATE);

const fill = (template: string, ...paths: string[]) =>
  paths.reduce((text, path) => text.replace("%s", () => path), template);

/** winrmcp's restore script for these paths, exactly as Packer 1.6.6 sends it (for tests). */
export function winrmcpRestoreScript(tmpPath: string, destPath: string): string {
  return fill(RESTORE_TEMPLATE, tmpPath, destPath);
}

/** winrmcp's cleanup script for this temporary path, as Packer 1.6.6 sends it (for tests). */
export function winrmcpCleanupScript(tmpPath: string): string {
  return fill(CLEANUP_TEMPLATE, tmpPath);
}

/** Newer masterzen/winrm releases prefix every encoded script with this. */
const PROGRESS_PREFIX = "$ProgressPreference = 'SilentlyContinue';";

/** `[Convert]::FromBase64String`: whitespace is skipped, anything else must be base64. */
function fromBase64(line: string): Uint8Array | undefined {
  const text = line.replace(/[ \t\r\n]/g, "");
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "base64"));
}

async function kind(local: string): Promise<"file" | "dir" | undefined> {
  try {
    return (await Deno.stat(local)).isDirectory ? "dir" : "file";
  } catch {
    return undefined;
  }
}

async function restore(io: WinrmcpIo, tmpPath: string, destPath: string): Promise<number> {
  const tmp = io.localPath(tmpPath);
  const dest = io.localPath(destPath.replace(/^'+|'+$/g, ""));
  const existing = await kind(dest);
  if (existing === "dir") return 1;
  if (existing === "file") await Deno.remove(dest);
  else await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true }).catch(() => {});
  if ((await kind(tmp)) === undefined) {
    await Deno.writeFile(dest, new Uint8Array());
    return 0;
  }
  // ReadLine splits at CR, LF and CRLF.
  const lines = (await Deno.readTextFile(tmp)).split(/\r\n|\r|\n/);
  if (lines.at(-1) === "") lines.pop();
  const out = await Deno.open(dest, { write: true, create: true });
  let code = 0;
  try {
    let bytes: Uint8Array | undefined;
    for (const line of lines) {
      const decoded = fromBase64(line);
      if (decoded === undefined) {
        writeLine(
          io.stderr,
          'Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid ' +
            "Base-64 string as it contains a non-base 64 character, more than two padding " +
            'characters, or an illegal character among the padding characters. "',
        );
        code = 1;
      } else bytes = decoded;
      if (bytes === undefined) continue;
      for (let done = 0; done < bytes.length;) done += await out.write(bytes.subarray(done));
    }
  } finally {
    out.close();
  }
  return code;
}

async function cleanup(io: WinrmcpIo, tmpPath: string): Promise<number> {
  await Deno.remove(io.localPath(tmpPath)).catch(() => {});
  return 0;
}

/** Runs `script` if it is winrmcp's restore or cleanup script; undefined otherwise. */
export function runWinrmcpSnippet(script: string, io: WinrmcpIo): Promise<number> | undefined {
  const body = script.startsWith(PROGRESS_PREFIX) ? script.slice(PROGRESS_PREFIX.length) : script;
  const restoring = RESTORE.exec(body);
  if (restoring) return restore(io, restoring[1], restoring[2]);
  const cleaning = CLEANUP.exec(body);
  if (cleaning) return cleanup(io, cleaning[1]);
  return undefined;
}
