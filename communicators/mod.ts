/** Communicator registry: opens a connection of the configured type. */
import type { Communicator } from "./communicator.ts";

/** Where to connect, as resolved by the builder's steps (host may be overridden by config). */
export interface ConnectTarget {
  host: string;
  port?: number;
  /** Extra facts for build data (instance id, ...). */
  id?: string;
}

/** Options every connect call takes. */
export interface ConnectOptions {
  /** The build's decoded config (ssh_* / winrm_* options). */
  config: Record<string, unknown>;
  target: ConnectTarget;
  signal: AbortSignal;
  /** Private key material for a temporary key pair, when the builder created one. */
  privateKey?: string;
  /** Progress lines ("Waiting for SSH to become available..."). */
  say?: (message: string) => void;
  /** Output of commands the communicator itself runs while connecting (WinRM's connect check). */
  message?: (line: string) => void;
}

const openers: Record<string, () => Promise<(o: ConnectOptions) => Promise<Communicator>>> = {
  "none": () => import("./none.ts").then((m) => m.openNone),
  "ssh": () => import("./ssh.ts").then((m) => m.openSsh),
  "winrm": () => import("./winrm.ts").then((m) => m.openWinrm),
};

/** Opens the communicator named by `config.communicator`. */
export async function openCommunicator(
  type: string,
  options: ConnectOptions,
): Promise<Communicator> {
  if (!Object.hasOwn(openers, type)) throw new Error(`communicator "${type}" is not supported`);
  return (await openers[type]())(options);
}

export type { Communicator, RemoteCommand, RemoteResult, UploadInfo } from "./communicator.ts";
export { DisconnectedError } from "./communicator.ts";
