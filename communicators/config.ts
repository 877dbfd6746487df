/**
 * Communicator options shared by every builder that connects (the
 * "communicator" block of a builder definition). Builders compose this into
 * their own schema with `composeSchema`.
 *
 * Names and defaults follow the reference communicator documents; durations
 * decode to milliseconds.
 */
import type { ConfigSchema, FieldSpec } from "../template/schema.ts";

const MINUTE = 60_000;

const common: Record<string, FieldSpec> = {
  communicator: { type: "string", enum: ["none", "ssh", "winrm"], doc: "none, ssh or winrm" },
  pause_before_connecting: {
    type: "duration",
    default: 0,
    doc: "after the first successful connection: disconnect, wait this long, reconnect",
  },
};

const ssh: Record<string, FieldSpec> = {
  ssh_host: { type: "string", doc: "address to connect to (usually set by the builder)" },
  ssh_port: { type: "int", default: 22 },
  ssh_username: { type: "string", doc: "login user; required with the ssh communicator" },
  ssh_password: {
    type: "string",
    sensitive: true,
    doc: "offered as password and keyboard-interactive",
  },
  ssh_private_key_file: { type: "string", doc: "PEM/OpenSSH private key; ~ is expanded" },
  ssh_certificate_file: { type: "string", doc: "user certificate for the private key; ~ expanded" },
  ssh_agent_auth: { type: "bool", default: false, doc: "authenticate with SSH_AUTH_SOCK's agent" },
  ssh_disable_agent_forwarding: { type: "bool", default: false },
  ssh_pty: { type: "bool", default: false, doc: "request a PTY for every command" },
  ssh_timeout: { type: "duration", default: 5 * MINUTE, doc: "how long to wait for SSH" },
  ssh_wait_timeout: { type: "duration", doc: "deprecated alias of ssh_timeout" },
  ssh_handshake_attempts: { type: "int", default: 10, doc: "handshakes tried once TCP connects" },
  ssh_keep_alive_interval: { type: "duration", default: 5_000, doc: "negative disables" },
  ssh_read_write_timeout: { type: "duration", default: 0, doc: "0 disables" },
  ssh_ciphers: { type: "string_list", doc: "overrides the offered ciphers" },
  ssh_key_exchange_algorithms: { type: "string_list", doc: "overrides the offered kex" },
  ssh_file_transfer_method: { type: "string", enum: ["scp", "sftp"], default: "scp" },
  ssh_clear_authorized_keys: { type: "bool", default: false },
  ssh_keypair_name: { type: "string", doc: "existing key pair to attach (builder specific)" },
  temporary_key_pair_name: { type: "string" },
  temporary_key_pair_type: {
    type: "string",
    enum: ["dsa", "ecdsa", "ed25519", "rsa"],
    default: "rsa",
    doc: "type of the temporary key pair a builder creates (dsa is refused)",
  },
  temporary_key_pair_bits: { type: "int", doc: "rsa: >= 1024 (default 4096); ecdsa: 256/384/521" },
  ssh_bastion_host: { type: "string" },
  ssh_bastion_port: { type: "int", default: 22 },
  ssh_bastion_username: { type: "string" },
  ssh_bastion_password: { type: "string", sensitive: true },
  ssh_bastion_interactive: { type: "bool", default: false },
  ssh_bastion_agent_auth: { type: "bool", default: false },
  ssh_bastion_private_key_file: { type: "string" },
  ssh_bastion_certificate_file: { type: "string" },
  ssh_proxy_host: { type: "string", doc: "SOCKS5 proxy" },
  ssh_proxy_port: { type: "int", default: 1080 },
  ssh_proxy_username: { type: "string" },
  ssh_proxy_password: { type: "string", sensitive: true },
  ssh_local_tunnels: { type: "string_list", doc: "OpenSSH -L syntax" },
  ssh_remote_tunnels: { type: "string_list", doc: "OpenSSH -R syntax" },
};

const winrm: Record<string, FieldSpec> = {
  winrm_host: { type: "string" },
  winrm_port: { type: "int", doc: "5985, or 5986 with winrm_use_ssl" },
  winrm_username: { type: "string" },
  winrm_password: { type: "string", sensitive: true },
  winrm_timeout: { type: "duration", default: 30 * MINUTE },
  winrm_use_ssl: { type: "bool", default: false },
  winrm_insecure: { type: "bool", default: false },
  winrm_use_ntlm: { type: "bool", default: false },
};

const TUNNEL = /^(?:(?:\[[^\]]+\]|[^:\s]+):)?\d+:(?:\[[^\]]+\]|[^:\s]+):\d+$/;

function checkCommunicator(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const type = config.temporary_key_pair_type;
  const bits = config.temporary_key_pair_bits;
  if (type === "dsa") {
    report("temporary_key_pair_type", "dsa keys are insecure and refused; use ed25519 or rsa");
  }
  if (type === "ecdsa" && bits !== undefined && ![256, 384, 521].includes(Number(bits))) {
    report("temporary_key_pair_bits", "ecdsa keys must be 256, 384 or 521 bits");
  }
  if ((type ?? "rsa") === "rsa" && bits !== undefined && Number(bits) < 1024) {
    report("temporary_key_pair_bits", "rsa keys must be at least 1024 bits");
  }
  for (const key of ["ssh_local_tunnels", "ssh_remote_tunnels"]) {
    const list = config[key];
    if (!Array.isArray(list)) continue;
    list.forEach((spec, i) => {
      if (typeof spec !== "string" || !TUNNEL.test(spec)) {
        report(`${key}[${i}]`, `expected OpenSSH syntax [bind_address:]port:host:hostport`);
      }
    });
  }
  if (config.communicator === "ssh" && !config.ssh_username) {
    report("ssh_username", "required when the communicator is ssh");
  }
  if (config.ssh_bastion_host && !config.ssh_bastion_username) {
    report("ssh_bastion_username", "required when ssh_bastion_host is set");
  }
}

/**
 * The communicator schema for a builder whose default communicator is
 * `defaultType` (Packer: "ssh" for most builders).
 */
export function communicatorSchema(defaultType: "ssh" | "none" = "ssh"): ConfigSchema {
  return {
    fields: {
      ...common,
      communicator: { ...common.communicator, default: defaultType },
      ...ssh,
      ...winrm,
    },
    check: checkCommunicator,
  };
}
