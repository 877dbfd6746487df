/**
 * Entry point of the SSH communicator (loaded lazily by communicators/mod.ts
 * only when a build connects): decode the options, wait for the machine,
 * honour pause_before_connecting, open tunnels.
 */
import type { Communicator } from "./communicator.ts";
import type { ConnectOptions } from "./mod.ts";
import { SshCommunicator } from "./ssh_communicator.ts";
import { connectWithRetry } from "./ssh_connect.ts";
import { sshSettings } from "./ssh_settings.ts";
import { sleep } from "../runtime/sleep.ts";

/** Connects over SSH as the build's ssh_* options say. */
export async function openSsh(options: ConnectOptions): Promise<Communicator> {
  const settings = await sshSettings(options);
  const say = options.say ?? (() => {});
  let link = await connectWithRetry(settings, options.signal, say);
  if (settings.pauseBeforeConnectingMs > 0) {
    // Packer's race guard: the first success only proves sshd is up; reconnect later.
    link.close();
    await link.closed;
    say(`Pausing ${settings.pauseBeforeConnectingMs / 1000}s before connecting...`);
    await sleep(settings.pauseBeforeConnectingMs, options.signal);
    link = await connectWithRetry(settings, options.signal);
  }
  say("Connected to SSH!");
  const comm = new SshCommunicator(link, settings, options.signal, options.privateKey);
  try {
    await comm.openTunnels();
  } catch (err) {
    await comm.close();
    throw err;
  }
  return comm;
}

export { SshCommunicator };
