/** Shared setup for the emulator tests: an emulator, an SDK client pointed at it, an ssh runner. */
import { EC2Client } from "@aws-sdk/client-ec2";
import {
  type Ec2EmulatorHandle,
  startEc2Emulator,
  type StartEc2Options,
} from "../support/ec2/mod.ts";

/** Dummy credentials: the emulator accepts any SigV4 signature. */
export const CREDENTIALS = {
  accessKeyId: "AKIAKILNTEST00000001",
  secretAccessKey: "kiln-test-secret",
};

/** An EC2 client for the emulator; no SDK retries unless asked, so faults surface. */
export function ec2Client(
  emulator: Ec2EmulatorHandle,
  options: { region?: string; maxAttempts?: number } = {},
): EC2Client {
  return new EC2Client({
    endpoint: emulator.endpoint,
    region: options.region ?? "us-east-1",
    credentials: CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 1,
  });
}

/** Runs `fn` with a fresh emulator and client, closing both afterwards. */
export async function withEmulator(
  options: StartEc2Options,
  fn: (emulator: Ec2EmulatorHandle, client: EC2Client) => Promise<void>,
): Promise<void> {
  const emulator = await startEc2Emulator({ pendingMs: 150, shuttingDownMs: 100, ...options });
  const client = ec2Client(emulator);
  try {
    await fn(emulator, client);
  } finally {
    client.destroy();
    await emulator.close();
  }
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a command over the OpenSSH client with a private key file; returns exit code and output. */
export async function ssh(
  host: string,
  port: number,
  privateKeyPath: string,
  command: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("ssh", {
    args: [
      "-i",
      privateKeyPath,
      "-p",
      String(port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "LogLevel=ERROR",
      `${Deno.env.get("USER") ?? "root"}@${host}`,
      command,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Writes placeholder `cert.pem` and `pk.pem` into `dir`: the bundle commands
 * only pass x509 files along, so their content never matters.
 */
export async function writeX509Placeholders(dir: string): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/cert.pem`,
    "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
  );
  await Deno.writeTextFile(
    `${dir}/pk.pem`,
    "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
  );
}

/**
 * An amazon-instance builder block that Packer 1.6.6 and kiln both run
 * against the emulator unchanged (credential and metadata checks skipped:
 * they would reach past loopback). The x509 files are `writeX509Placeholders`'.
 */
export function emulatorBuilder(
  endpoint: string,
  dir: string,
  sshPort: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: "amazon-instance",
    access_key: "AKIAKILNTEST00000001",
    secret_key: "kiln-test-secret",
    region: "us-east-1",
    custom_endpoint_ec2: endpoint,
    skip_credential_validation: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    source_ami_filter: {
      filters: { name: "amzn-ami-hvm-*", "root-device-type": "instance-store" },
      owners: ["amazon"],
      most_recent: true,
    },
    instance_type: "m3.medium",
    ssh_username: Deno.env.get("USER") || "root",
    ssh_port: sshPort,
    ssh_timeout: "1m",
    account_id: "123456789012",
    s3_bucket: "kiln-packer-bundles",
    x509_cert_path: `${dir}/cert.pem`,
    x509_key_path: `${dir}/pk.pem`,
    ami_virtualization_type: "hvm",
    ...extra,
  };
}
