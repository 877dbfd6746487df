/**
 * The contract between the WinRM test server (which speaks WS-Management and
 * runs kiln's own transfer snippets) and the emulation of the Windows command
 * lines provisioners send (cmd.exe and a documented PowerShell subset). There
 * is no Windows here, so the server hands every command it does not recognise
 * to a `CommandEmulator`.
 */

/** What an emulated command may touch. */
export interface EmulatedIo {
  /** Maps a Windows path (`C:\Windows\Temp\x.ps1`, `c:/x`, `%TEMP%\x`) to a local path under the server's root. */
  localPath(windowsPath: string): string;
  /** The shell's environment (mutable: `set`/`$env:` assignments persist for the command). */
  env: Record<string, string>;
  /** Writes to the command's stdout stream (sent to the client as it is produced). */
  stdout(text: string): void;
  /** Writes to the command's stderr stream. */
  stderr(text: string): void;
  /** Simulates a reboot: the server stops answering for `downMs`, then comes back; open shells are lost. */
  restart(downMs?: number): void;
  /** Aborted when the client signals terminate or deletes the shell. */
  signal: AbortSignal;
}

/** Runs one command line; resolves with its exit code, or undefined when it does not recognise it. */
export type CommandEmulator = (commandLine: string, io: EmulatedIo) => Promise<number | undefined>;
