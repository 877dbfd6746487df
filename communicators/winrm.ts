/**
 * Entry point of the WinRM communicator (loaded lazily by communicators/mod.ts
 * only when a build connects): decode the options, wait until the listener
 * answers and accepts the credentials (winrm_timeout), honour
 * pause_before_connecting.
 */
import type { Communicator } from "./communicator.ts";
import type { ConnectOptions } from "./mod.ts";
import { sleep } from "../runtime/sleep.ts";
import { WinrmCommunicator } from "./winrm_communicator.ts";
import { CertificateError } from "./winrm_http.ts";
import { type WinrmSettings, winrmSettings } from "./winrm_settings.ts";
import { WinrmShell } from "./winrm_shell.ts";
import { encodePowerShell } from "./winrm_scripts.ts";
import { AuthError, WinrmTransport } from "./winrm_transport.ts";

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("cancelled");
}

/**
 * Opens a shell, retrying while the machine is not up. Wrong credentials and
 * an untrusted certificate fail at once: waiting cannot fix them.
 */
async function connectWithRetry(
  settings: WinrmSettings,
  signal: AbortSignal,
  say: (message: string) => void,
): Promise<{ transport: WinrmTransport; shell: WinrmShell }> {
  const deadline = Date.now() + settings.timeoutMs;
  let delay = 100;
  let lastError = "";
  say("Waiting for WinRM to become available...");
  while (true) {
    if (signal.aborted) throw abortError(signal);
    const left = deadline - Date.now();
    const transport = new WinrmTransport({
      ...settings,
      connectTimeoutMs: Math.max(1000, Math.min(left, settings.connectTimeoutMs)),
    });
    try {
      return { transport, shell: await WinrmShell.open(transport, signal) };
    } catch (err) {
      transport.close();
      if (signal.aborted) throw abortError(signal);
      if (err instanceof AuthError || err instanceof CertificateError) throw err;
      lastError = (err as Error).message;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(
        `timeout waiting for WinRM on ${settings.host}:${settings.port} ` +
          `(winrm_timeout ${settings.timeoutMs} ms); last error: ${lastError}`,
      );
    }
    await sleep(Math.min(delay, remaining), signal);
    delay = Math.min(delay * 2, 2000);
  }
}

/** Packer's connect check: the listener can answer before PowerShell works. */
const CONNECT_CHECK = `powershell.exe -EncodedCommand ${
  encodePowerShell(
    `if (Test-Path variable:global:ProgressPreference){$ProgressPreference='SilentlyContinue'}; ` +
      `echo "WinRM connected."`,
  )
}`;
const CHECK_RETRY_MS = 5_000;

/**
 * Runs the check until PowerShell echoes back (every 5 s, as Packer does, up
 * to winrm_timeout), printing its output as Packer does.
 */
async function waitForPowerShell(
  comm: Communicator,
  settings: WinrmSettings,
  options: ConnectOptions,
): Promise<void> {
  const deadline = Date.now() + settings.timeoutMs;
  const decoder = new TextDecoder();
  while (true) {
    let stdout = "";
    let problem = "";
    try {
      const { exitStatus } = await comm.start({
        command: CONNECT_CHECK,
        stdout: (chunk) => stdout += decoder.decode(chunk, { stream: true }),
        signal: options.signal,
      });
      if (exitStatus !== 0) problem = `the check exited ${exitStatus}`;
    } catch (err) {
      if (options.signal.aborted) throw abortError(options.signal);
      problem = (err as Error).message;
    }
    for (const line of stdout.split(/\r?\n/)) if (line.trim()) options.message?.(line.trimEnd());
    if (!problem && stdout.includes("WinRM connected.")) return;
    problem ||= "PowerShell did not echo back";
    if (Date.now() + CHECK_RETRY_MS > deadline) {
      throw new Error(
        `timeout waiting for PowerShell over WinRM on ${settings.host}:${settings.port} ` +
          `(winrm_timeout ${settings.timeoutMs} ms): ${problem}`,
      );
    }
    await sleep(CHECK_RETRY_MS, options.signal);
  }
}

/** Connects over WinRM as the build's winrm_* options say. */
export async function openWinrm(options: ConnectOptions): Promise<Communicator> {
  const settings = winrmSettings(options);
  const say = options.say ?? (() => {});
  let link = await connectWithRetry(settings, options.signal, say);
  if (settings.pauseBeforeConnectingMs > 0) {
    // Packer's race guard: the first answer may come from a listener about to restart.
    await link.shell.delete().catch(() => {});
    link.transport.close();
    say(`Pausing ${settings.pauseBeforeConnectingMs / 1000}s before connecting...`);
    await sleep(settings.pauseBeforeConnectingMs, options.signal);
    link = await connectWithRetry(settings, options.signal, () => {});
  }
  const comm = new WinrmCommunicator(link.transport, settings, link.shell);
  try {
    await waitForPowerShell(comm, settings, options);
  } catch (err) {
    await comm.close();
    throw err;
  }
  say("Connected to WinRM!");
  return comm;
}

export { WinrmCommunicator };
