/**
 * An emulator for communicator tests: PowerShell command lines (the connect
 * check every WinRM connection runs first) go to the Windows emulation, and
 * everything else to /bin/sh, so tests can use echo, exit, head and sleep.
 */
import type { CommandEmulator } from "./emulation.ts";
import { emulateWindowsCommand } from "./windows_commands.ts";

/** PowerShell to the Windows emulation, the rest to /bin/sh. */
export const powershellThenSh: CommandEmulator = (line, io) =>
  /^powershell(\.exe)?\s/i.test(line)
    ? emulateWindowsCommand(line, io)
    : Promise.resolve(undefined);
