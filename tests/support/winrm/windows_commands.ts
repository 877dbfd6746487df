/**
 * Emulation of the cmd.exe and PowerShell command lines kiln's Windows
 * provisioners (windows-shell, powershell, windows-restart) send — and
 * Packer 1.6.6's, whose command lines for the same provisioners and whose
 * winrmcp upload chunks fall in the same subset — for the WinRM test
 * server: there is no Windows and no pwsh here.
 *
 * The documented subset —
 *
 * cmd.exe (windows_cmd.ts): %VAR% expansion (before the line runs, as
 * cmd.exe does), `&&` / `||` / `&`, `^` escapes, output redirection
 * (`>`, `>>`, `2>`, `nul`; windows_redirect.ts), `set "K=V"` and
 * `set K=V`, `echo` (and `echo.`, `@echo off|on`; echo-on batch lines are
 * shown after the prompt), `exit N` / `exit /b N`, `rem` and `::`,
 * `cmd /c ...`, a `.bat`/`.cmd` file by path (run line by line),
 * `shutdown /r [/f] [/t N] [/c msg]` (restarts the emulated machine through
 * `io.restart`; a second request while one is under way answers 1115, while
 * one is scheduled 1190) and `shutdown /a` (1116 when nothing is pending),
 * and `powershell[.exe]`.
 *
 * powershell.exe (windows_powershell.ts, windows_ps_parser.ts):
 * `-EncodedCommand <base64 UTF-16LE>`, `-Command ...`, `-File path`, a
 * positional script (`powershell -executionpolicy bypass "& { ... }"`),
 * `-ExecutionPolicy P` and `-NoProfile`/`-NonInteractive`/`-NoLogo`. In
 * scripts: `$env:K = "v"`, `$name = ...`, single- and double-quoted
 * strings (backtick escapes, `$env:X` / `$name` expansion), `. 'file'` /
 * `. file` dot-sourcing, `&'path'` / `& "path"` script invocation (its
 * `exit N` sets `$LastExitCode`), `& { ... }`, `exit [N]`,
 * `Write-Output` / `echo` / `Write-Host`, `if (...) {...} else {...}`,
 * `Test-Path`, `Remove-Item path`, `Set-Variable -name -value` and the
 * ProgressPreference preamble, `Set-PsDebug -Trace N` (a `DEBUG:` line per
 * statement), `Restart-Computer [-Force]`, `"{0}" -f ...` and
 * `[System.Net.Dns]::GetHostName()` (COMPUTERNAME, else KILN-WINRM).
 * Registry paths (`HKLM:\...`) map to `C:/kiln-emulated-registry/HKLM/...`
 * so a test can create a "pending reboot" key as a directory.
 *
 * Anything else that reaches cmd.exe or PowerShell fails: a stderr line
 * saying kiln's emulator does not support it, and exit code 9009 (an
 * unknown program, as cmd.exe reports it) or 1 (PowerShell). A command
 * line that is none of the above (no Windows command at all — e.g. a POSIX
 * shell command sent by the `shell` provisioner) is not recognised:
 * `undefined`, so the server can hand it to its local shell.
 */
import type { CommandEmulator, EmulatedIo } from "./emulation.ts";
import { Cmd, NOT_RECOGNIZED } from "./windows_cmd.ts";
import { Machine, UnsupportedError, writeLine } from "./windows_machine.ts";

/** How long an emulated restart keeps the machine away, unless told otherwise. */
export const DEFAULT_RESTART_DOWN_MS = 2000;

/** Command names this emulator answers for; anything else is not a Windows command line. */
const WINDOWS_COMMAND = new RegExp(
  String.raw`^\s*@?(set\s|set$|echo\b|echo\.|exit\b|rem\b|::|cmd(\.exe)?\s|shutdown(\.exe)?\b|` +
    String.raw`powershell(\.exe)?\b|"[^"]*\.(bat|cmd)"|\S+\.(bat|cmd)\b)`,
  "i",
);

/** Options of an emulator instance. */
export interface WindowsEmulatorOptions {
  /** How long `shutdown /r` and `Restart-Computer` keep the machine down. */
  restartDownMs?: number;
}

/**
 * An emulator with its own machine state (restarts pending or under way are
 * remembered per server root, so two servers never share them).
 */
export function createWindowsEmulator(options: WindowsEmulatorOptions = {}): CommandEmulator {
  const machines = new Map<string, Machine>();
  return async (commandLine: string, io: EmulatedIo) => {
    if (!WINDOWS_COMMAND.test(commandLine)) return undefined;
    const root = io.localPath("C:/");
    let machine = machines.get(root);
    if (!machine) {
      machine = new Machine(options.restartDownMs ?? DEFAULT_RESTART_DOWN_MS);
      machines.set(root, machine);
    }
    const cmd = new Cmd(io, machine, io.env);
    try {
      return await cmd.runCommandLine(commandLine);
    } catch (err) {
      if (!(err instanceof UnsupportedError)) throw err;
      writeLine(io.stderr, `kiln's Windows emulator does not support ${err.message}`);
      return /powershell/i.test(commandLine) ? 1 : NOT_RECOGNIZED;
    }
  };
}

/** The shared default emulator (restarts keep the machine away for 2 s). */
export const emulateWindowsCommand: CommandEmulator = createWindowsEmulator();
