/**
 * Turns a build's decoded ssh_* options into the typed settings the SSH
 * communicator works with: durations in milliseconds, `~` expanded, key and
 * certificate files read (with an error naming the option when unreadable).
 */
import type { ConnectOptions } from "./mod.ts";
import { parseDuration } from "../template/duration.ts";

/** Credentials for one SSH hop (the target or the bastion). */
export interface SshCredentials {
  username: string;
  password?: string;
  /** Offer keyboard-interactive answering with the password. */
  interactive: boolean;
  privateKey?: string;
  /** OpenSSH user certificate line for `privateKey`. */
  certificate?: string;
  /** Agent socket path when agent auth is on. */
  agent?: string;
}

/** A proxy to reach the first hop through. */
export interface SocksProxy {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

/** Everything the SSH communicator needs, typed. */
export interface SshSettings {
  host: string;
  port: number;
  auth: SshCredentials;
  bastion?: { host: string; port: number; auth: SshCredentials };
  proxy?: SocksProxy;
  timeoutMs: number;
  handshakeAttempts: number;
  /** 0 disables. */
  keepAliveMs: number;
  /** 0 disables. */
  readWriteTimeoutMs: number;
  pty: boolean;
  /** Agent socket forwarded to the machine (Packer: SSH_AUTH_SOCK unless disabled). */
  agentForwardSocket?: string;
  ciphers?: string[];
  kex?: string[];
  fileTransfer: "scp" | "sftp";
  localTunnels: string[];
  remoteTunnels: string[];
  clearAuthorizedKeys: boolean;
  pauseBeforeConnectingMs: number;
}

/** Milliseconds from a decoded duration (number of ms) or a Go duration string. */
export function durationMs(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  if (typeof value === "number") return value;
  const text = String(value).trim();
  // A bare integer counts nanoseconds, as Go decodes a number into a time.Duration.
  if (/^-?\d+$/.test(text)) return Number(text) / 1e6;
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`invalid duration "${text}"`);
  return ms;
}

/** Expands a leading `~` to the current user's home directory. */
export function expandHome(path: string): string {
  if (path !== "~" && !path.startsWith("~/")) return path;
  const home = Deno.env.get("HOME") ?? (Deno.uid() === 0 ? "/root" : "");
  return home + path.slice(1);
}

async function readOption(
  config: Record<string, unknown>,
  key: string,
): Promise<string | undefined> {
  const value = config[key];
  if (typeof value !== "string" || value === "") return undefined;
  const path = expandHome(value);
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new Error(`${key}: cannot read "${path}": ${why}`);
  }
}

function str(config: Record<string, unknown>, key: string): string | undefined {
  const value = config[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function list(config: Record<string, unknown>, key: string): string[] | undefined {
  const value = config[key];
  return Array.isArray(value) && value.length > 0 ? value.map(String) : undefined;
}

function agentSocket(enabled: boolean, option: string): string | undefined {
  if (!enabled) return undefined;
  const sock = Deno.env.get("SSH_AUTH_SOCK");
  if (!sock) throw new Error(`${option} is true but SSH_AUTH_SOCK is not set: start ssh-agent`);
  return sock;
}

/** Decodes the ssh_* options of `options.config` for `options.target`. */
export async function sshSettings(options: ConnectOptions): Promise<SshSettings> {
  const c = options.config;
  // The target is what the builder resolved (with any ssh_host override applied).
  const host = options.target.host || str(c, "ssh_host");
  if (!host) throw new Error("ssh_host: no address to connect to");
  const username = str(c, "ssh_username");
  if (!username) throw new Error("ssh_username: required when connecting over SSH");
  const agentAuth = c.ssh_agent_auth === true;
  const auth: SshCredentials = {
    username,
    // Agent auth replaces password and key file, as the reference says.
    password: agentAuth ? undefined : str(c, "ssh_password"),
    interactive: true,
    privateKey: agentAuth
      ? undefined
      : (await readOption(c, "ssh_private_key_file")) ?? options.privateKey,
    certificate: await readOption(c, "ssh_certificate_file"),
    agent: agentSocket(agentAuth, "ssh_agent_auth"),
  };
  let bastion: SshSettings["bastion"];
  const bastionHost = str(c, "ssh_bastion_host");
  if (bastionHost) {
    bastion = {
      host: bastionHost,
      port: Number(c.ssh_bastion_port ?? 22),
      auth: {
        username: str(c, "ssh_bastion_username") ?? username,
        password: str(c, "ssh_bastion_password"),
        interactive: c.ssh_bastion_interactive === true,
        privateKey: await readOption(c, "ssh_bastion_private_key_file"),
        certificate: await readOption(c, "ssh_bastion_certificate_file"),
        agent: agentSocket(c.ssh_bastion_agent_auth === true, "ssh_bastion_agent_auth"),
      },
    };
  }
  const proxyHost = str(c, "ssh_proxy_host");
  const proxy = proxyHost
    ? {
      host: proxyHost,
      port: Number(c.ssh_proxy_port ?? 1080),
      username: str(c, "ssh_proxy_username"),
      password: str(c, "ssh_proxy_password"),
    }
    : undefined;
  const timeout = c.ssh_timeout ?? c.ssh_wait_timeout;
  return {
    host,
    port: Number(options.target.port ?? c.ssh_port ?? 22),
    auth,
    bastion,
    proxy,
    timeoutMs: durationMs(timeout, 5 * 60_000),
    handshakeAttempts: Number(c.ssh_handshake_attempts ?? 10),
    keepAliveMs: Math.max(0, durationMs(c.ssh_keep_alive_interval, 5000)),
    readWriteTimeoutMs: Math.max(0, durationMs(c.ssh_read_write_timeout, 0)),
    pty: c.ssh_pty === true,
    agentForwardSocket: c.ssh_disable_agent_forwarding === true
      ? undefined
      : (Deno.env.get("SSH_AUTH_SOCK") || undefined),
    ciphers: list(c, "ssh_ciphers"),
    kex: list(c, "ssh_key_exchange_algorithms"),
    fileTransfer: c.ssh_file_transfer_method === "sftp" ? "sftp" : "scp",
    localTunnels: list(c, "ssh_local_tunnels") ?? [],
    remoteTunnels: list(c, "ssh_remote_tunnels") ?? [],
    clearAuthorizedKeys: c.ssh_clear_authorized_keys === true,
    pauseBeforeConnectingMs: durationMs(c.pause_before_connecting, 0),
  };
}
