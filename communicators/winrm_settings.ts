/**
 * Turns a build's decoded winrm_* options into the typed settings the WinRM
 * communicator works with (durations in milliseconds, the port defaulted
 * from winrm_use_ssl).
 */
import type { ConnectOptions } from "./mod.ts";
import { durationMs } from "./ssh_settings.ts";
import type { TransportSettings } from "./winrm_transport.ts";

/** Everything the WinRM communicator needs, typed. */
export interface WinrmSettings extends TransportSettings {
  /** How long to keep trying to reach the listener (winrm_timeout). */
  timeoutMs: number;
  pauseBeforeConnectingMs: number;
}

function str(config: Record<string, unknown>, key: string): string | undefined {
  const value = config[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Decodes the winrm_* options of `options.config` for `options.target`. */
export function winrmSettings(options: ConnectOptions): WinrmSettings {
  const c = options.config;
  const host = options.target.host || str(c, "winrm_host");
  if (!host) throw new Error("winrm_host: no address to connect to");
  const username = str(c, "winrm_username");
  if (!username) throw new Error("winrm_username: required when connecting over WinRM");
  const tls = c.winrm_use_ssl === true;
  const port = Number(options.target.port ?? c.winrm_port ?? (tls ? 5986 : 5985));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`winrm_port: expected a TCP port, got ${port}`);
  }
  return {
    host,
    port,
    tls,
    insecure: c.winrm_insecure === true,
    ntlm: c.winrm_use_ntlm === true,
    username,
    password: str(c, "winrm_password") ?? "",
    connectTimeoutMs: 20_000,
    timeoutMs: durationMs(c.winrm_timeout, 30 * 60_000),
    pauseBeforeConnectingMs: durationMs(c.pause_before_connecting, 0),
  };
}
