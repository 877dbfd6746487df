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
  say("Connected to WinRM!");
  return new WinrmCommunicator(link.transport, settings, link.shell);
}

export { WinrmCommunicator };
