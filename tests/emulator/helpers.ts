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
