/** The communicator schema's checks, the decoded settings, and the `none` communicator. */
import assert from "node:assert/strict";
import { communicatorSchema } from "../../communicators/config.ts";
import { openCommunicator } from "../../communicators/mod.ts";
import { durationMs, sshSettings } from "../../communicators/ssh_settings.ts";

function problems(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  communicatorSchema("ssh").check!(config, (key, message) => out.push(`${key}: ${message}`));
  return out;
}

Deno.test("config: every documented ssh_* and winrm_* option exists with Packer's defaults", () => {
  const fields = communicatorSchema("ssh").fields;
  const defaults: Record<string, unknown> = {
    communicator: "ssh",
    ssh_port: 22,
    ssh_timeout: 300_000,
    ssh_handshake_attempts: 10,
    ssh_keep_alive_interval: 5000,
    ssh_file_transfer_method: "scp",
    ssh_bastion_port: 22,
    ssh_proxy_port: 1080,
    ssh_pty: false,
    temporary_key_pair_type: "rsa",
    winrm_timeout: 1_800_000,
    pause_before_connecting: 0,
  };
  for (const [key, value] of Object.entries(defaults)) {
    assert.equal(fields[key]?.default, value, key);
  }
  for (
    const key of ["ssh_password", "ssh_bastion_password", "ssh_proxy_password", "winrm_password"]
  ) {
    assert.equal(fields[key].sensitive, true, `${key} is masked`);
  }
  for (
    const key of [
      "ssh_agent_auth",
      "ssh_certificate_file",
      "ssh_ciphers",
      "ssh_key_exchange_algorithms",
      "ssh_bastion_interactive",
      "ssh_bastion_agent_auth",
      "ssh_bastion_certificate_file",
      "ssh_local_tunnels",
      "ssh_remote_tunnels",
      "ssh_clear_authorized_keys",
      "ssh_read_write_timeout",
      "ssh_disable_agent_forwarding",
      "winrm_use_ssl",
      "winrm_insecure",
      "winrm_use_ntlm",
    ]
  ) assert.ok(fields[key], key);
  assert.equal(communicatorSchema("none").fields.communicator.default, "none");
});

Deno.test("config: bad key types, sizes and tunnel specs are refused with the option named", () => {
  assert.deepEqual(
    problems({ communicator: "ssh", ssh_username: "u", temporary_key_pair_type: "dsa" }),
    [
      "temporary_key_pair_type: dsa keys are insecure and refused; use ed25519 or rsa",
    ],
  );
  assert.deepEqual(
    problems({
      communicator: "ssh",
      ssh_username: "u",
      temporary_key_pair_type: "ecdsa",
      temporary_key_pair_bits: 300,
    }),
    ["temporary_key_pair_bits: ecdsa keys must be 256, 384 or 521 bits"],
  );
  assert.deepEqual(
    problems({ communicator: "ssh", ssh_username: "u", ssh_local_tunnels: ["8080:localhost"] }),
    [
      "ssh_local_tunnels[0]: expected OpenSSH syntax [bind_address:]port:host:hostport",
    ],
  );
  assert.deepEqual(problems({ communicator: "ssh" }), [
    "ssh_username: required when the communicator is ssh",
  ]);
  assert.deepEqual(problems({ communicator: "none" }), []);
});

Deno.test("config: settings decode durations, agent and bastion options", async () => {
  assert.equal(durationMs("1m30s", 0), 90_000);
  assert.equal(durationMs("-1s", 0), -1000);
  assert.equal(durationMs(undefined, 5), 5);
  assert.throws(() => durationMs("soon", 0), /invalid duration "soon"/);
  const s = await sshSettings({
    config: {
      ssh_username: "u",
      ssh_password: "p",
      ssh_keep_alive_interval: "-1s",
      ssh_timeout: "2m",
      ssh_bastion_host: "127.0.0.1",
      ssh_bastion_username: "b",
    },
    target: { host: "127.0.0.1", port: 2222 },
    signal: new AbortController().signal,
  });
  assert.equal(s.keepAliveMs, 0, "a negative keep-alive disables it");
  assert.equal(s.timeoutMs, 120_000);
  assert.equal(s.port, 2222);
  assert.equal(s.bastion?.auth.username, "b");
});

Deno.test("none: every operation is refused with a message saying what to change", async () => {
  const comm = await openCommunicator("none", {
    config: {},
    target: { host: "" },
    signal: new AbortController().signal,
  });
  await assert.rejects(
    comm.start({ command: "echo hi" }),
    /communicator is "none".*"communicator": "ssh"/,
  );
  await assert.rejects(comm.upload("/tmp/x", new Uint8Array()), /cannot upload to \/tmp\/x/);
  await assert.rejects(comm.uploadDir("/tmp", "dir"), /communicator is "none"/);
  await assert.rejects(comm.download("/x", new WritableStream()), /cannot download \/x/);
  await assert.rejects(comm.downloadDir("/x", "y"), /communicator is "none"/);
  await comm.close();
});
