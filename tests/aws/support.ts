/**
 * Runs `kiln` as a child process against the EC2 emulator: a real CLI, a
 * real SDK on the wire, real sshd instances on loopback.
 */
import {
  INSTANCE_VISIBLE_DIR,
  startEc2Emulator,
  type StartEc2Options,
} from "../support/ec2/mod.ts";
import type { Ec2EmulatorHandle } from "../support/ec2/mod.ts";
import { freePort } from "../support/sshd.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** The AWS secret used in every test; it must never appear in anything kiln writes. */
export const SENTINEL_SECRET = "kiln-sentinel-SECRET-9f3c2a";

/** A scratch workspace: template dir, KILN_HOME, emulator. */
export interface AwsWorkspace {
  dir: string;
  home: string;
  emulator: Ec2EmulatorHandle;
  sshPort: number;
  close(): Promise<void>;
}

/** Starts an emulator whose instances also listen on one fixed SSH port at their own address. */
export async function awsWorkspace(options: StartEc2Options = {}): Promise<AwsWorkspace> {
  // Outside /tmp, so a provisioner on an instance (which has a /tmp of its own) can reach it.
  const dir = await Deno.makeTempDir({ dir: INSTANCE_VISIBLE_DIR, prefix: "kiln-aws-" });
  const sshPort = freePort();
  const emulator = await startEc2Emulator({
    pendingMs: 150,
    shuttingDownMs: 100,
    imagePendingMs: 100,
    sshPort,
    ...options,
  });
  await Deno.writeTextFile(`${dir}/cert.pem`, "-----BEGIN CERTIFICATE-----\nkiln\n");
  await Deno.writeTextFile(`${dir}/key.pem`, "-----BEGIN PRIVATE KEY-----\nkiln\n");
  return {
    dir,
    home: `${dir}/.kiln`,
    emulator,
    sshPort,
    close: async () => {
      await emulator.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** An amazon-instance template for the workspace; `extra` is merged into the builder. */
export function amazonTemplate(
  ws: AwsWorkspace,
  extra: Record<string, unknown> = {},
  provisioners: unknown[] = [],
): Record<string, unknown> {
  return {
    variables: { secret: SENTINEL_SECRET },
    "sensitive-variables": ["secret"],
    builders: [{
      type: "amazon-instance",
      region: "us-east-1",
      access_key: "AKIAKILNTEST00000001",
      secret_key: "{{user `secret`}}",
      custom_endpoint_ec2: ws.emulator.endpoint,
      source_ami_filter: {
        filters: { name: "ubuntu/images/*", "root-device-type": "instance-store" },
        owners: ["099720109477"],
        most_recent: true,
      },
      instance_type: "m1.small",
      ssh_username: Deno.env.get("USER") ?? "root",
      ssh_port: ws.sshPort,
      ssh_timeout: "30s",
      account_id: "1234-5678-9012",
      s3_bucket: "kiln-bundles",
      x509_cert_path: `${ws.dir}/cert.pem`,
      x509_key_path: `${ws.dir}/key.pem`,
      ami_name: "kiln-test-ami",
      temporary_key_pair_type: "ed25519",
      aws_polling: { delay_seconds: 1, max_attempts: 30 },
      ...extra,
    }],
    provisioners,
  };
}

/** Options only amazon-instance has (bundling): an amazon-ebs template leaves them out. */
const INSTANCE_STORE_KEYS = ["account_id", "s3_bucket", "x509_cert_path", "x509_key_path"];

/**
 * An amazon-ebs template for the workspace: amazonTemplate's access,
 * communicator and polling options, the seeded EBS source AMI (Amazon
 * Linux 2), and no bundling options; `extra` is merged into the builder.
 */
export function ebsTemplate(
  ws: AwsWorkspace,
  extra: Record<string, unknown> = {},
  provisioners: unknown[] = [],
): Record<string, unknown> {
  const template = amazonTemplate(ws, {}, provisioners);
  const [builder] = template.builders as Record<string, unknown>[];
  for (const key of INSTANCE_STORE_KEYS) delete builder[key];
  Object.assign(builder, {
    type: "amazon-ebs",
    source_ami_filter: {
      filters: { name: "amzn2-ami-hvm-*", "root-device-type": "ebs" },
      owners: ["amazon"],
      most_recent: true,
    },
    instance_type: "t3.micro",
    ...extra,
  });
  return template;
}

/** Result of a kiln invocation. */
export interface KilnResult {
  code: number;
  stdout: string;
  stderr: string;
  runId?: string;
}

function kilnCommand(ws: AwsWorkspace, args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
    cwd: ws.dir,
    env: {
      KILN_HOME: ws.home,
      NO_COLOR: "1",
      // The SDK's standard S3 endpoint override: where bundles are deleted on failure.
      AWS_ENDPOINT_URL_S3: ws.emulator.s3.endpoint,
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Starts `kiln <args>` and returns the child, for tests that signal it
 * mid-build; `lines` yields its stdout line by line as it is printed.
 */
export function spawnKiln(
  ws: AwsWorkspace,
  args: string[],
  env: Record<string, string> = {},
): { child: Deno.ChildProcess; lines: AsyncIterableIterator<string>; stderr: Promise<string> } {
  const child = kilnCommand(ws, args, env).spawn();
  const stderr = new Response(child.stderr).text();
  async function* lines() {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      yield* parts;
    }
    if (buffered) yield buffered;
  }
  return { child, lines: lines(), stderr };
}

/** The run's log records (parsed), for assertions on events. */
export async function runEvents(
  ws: AwsWorkspace,
  runId: string,
): Promise<{ seq: number; type: string; step?: string; data: Record<string, unknown> }[]> {
  return (await Deno.readTextFile(`${ws.home}/runs/${runId}/events.jsonl`)).trim().split("\n")
    .map((line) => JSON.parse(line));
}

/** Runs `kiln <args>` in the workspace. */
export async function kiln(
  ws: AwsWorkspace,
  args: string[],
  env: Record<string, string> = {},
): Promise<KilnResult> {
  const out = await kilnCommand(ws, args, env).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const runId = (stdout + stderr).match(/\b(\d{8}T\d{6}Z-[0-9a-f]+)\b/)?.[1];
  return { code: out.code, stdout, stderr, runId };
}

/** Writes a template into the workspace and returns its path. */
export async function writeTemplate(ws: AwsWorkspace, template: unknown): Promise<string> {
  const path = `${ws.dir}/template.json`;
  await Deno.writeTextFile(path, JSON.stringify(template, null, 2));
  return path;
}

/** Every byte under `dir` (recursively) as text, to scan for secrets. */
export async function allText(dir: string): Promise<string> {
  let text = "";
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) text += await allText(path);
    else if (entry.isFile) text += new TextDecoder().decode(await Deno.readFile(path));
  }
  return text;
}

/**
 * Runs `kiln <args>` and sends it SIGINT (Ctrl-C) as soon as a stdout line
 * contains `marker`; returns once the process has exited.
 */
export async function interruptWhen(
  ws: AwsWorkspace,
  args: string[],
  marker: string,
  env: Record<string, string> = {},
): Promise<KilnResult> {
  const { child, lines, stderr } = spawnKiln(ws, args, env);
  let stdout = "";
  for await (const line of lines) {
    stdout += line + "\n";
    if (line.includes(marker)) {
      child.kill("SIGINT");
      break;
    }
  }
  for await (const line of lines) stdout += line + "\n";
  const status = await child.status;
  const err = await stderr;
  const runId = (stdout + err).match(/\b(\d{8}T\d{6}Z-[0-9a-f]+)\b/)?.[1];
  return { code: status.code, stdout, stderr: err, runId };
}
