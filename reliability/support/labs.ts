/**
 * The three example builds every campaign scenario runs against, each in a
 * scratch workspace with its real peer: `null` over SSH (a real sshd on
 * loopback), the `file` builder (local files, shell-local, checksum), and
 * `amazon-instance` on the EC2 + S3 emulator. Every lab plants the campaign's
 * sentinel secrets in its inputs, counts provisioner runs in a counter file
 * (one line per run, "p<index>"), and knows what its artifacts and its leaks
 * are.
 */
import { join } from "node:path";
import { SENTINELS } from "../secret_scan.ts";
import { generateKey, type SshdHandle, startSshd } from "../../tests/support/sshd.ts";
import { writeRandomFile } from "../../tests/support/random_file.ts";
import { amazonTemplate, type AwsWorkspace, awsWorkspace } from "../../tests/aws/support.ts";
import type { FaultOptions } from "../../tests/support/ec2/mod.ts";
import type { RunState } from "../../runtime/fold.ts";
import type { KilnSpawnOptions } from "./kiln_process.ts";

/** Which example build. */
export type LabKind = "null-ssh" | "file" | "aws";

/** Display names for the table. */
export const LAB_NAMES: Record<LabKind, string> = {
  "null-ssh": "null over SSH",
  file: "file",
  aws: "amazon-instance on the EC2 emulator",
};

/** A workspace holding one example build. */
export interface Lab {
  kind: LabKind;
  dir: string;
  home: string;
  /** TMPDIR for kiln: must end empty. */
  tmp: string;
  /** `kiln build` arguments (flags and template). */
  buildArgs: string[];
  /** Options to spawn kiln in this lab (extra env merged in). */
  spawn(env?: Record<string, string>): KilnSpawnOptions;
  /** Provisioner runs so far, e.g. ["p0", "p1"]. */
  counter(): Promise<string[]>;
  /** The build's results (path → sha-256, or AMI facts), to compare with a reference run. */
  artifacts(): Promise<Record<string, string>>;
  /**
   * What exists outside the log that should not: emulator resources, output
   * files. A finished-successful build's results are expected and not listed.
   */
  leaks(state: RunState | undefined): Promise<string[]>;
  /** Instances ever launched (aws only). */
  launches(): number;
  /** Files kiln writes that a secret scan must cover besides home and tmp. */
  outputs: string[];
  /** The sshd the build connects to (null-ssh only). */
  sshd?: SshdHandle;
  /** The emulator workspace (aws only). */
  aws?: AwsWorkspace;
  close(): Promise<void>;
}

/** Options of `openLab`. */
export interface LabOptions {
  /** Emulator faults (aws). */
  faults?: FaultOptions;
  /** Extra builder options. */
  builder?: Record<string, unknown>;
  /** Provisioners to use instead of the lab's own. */
  provisioners?: unknown[];
  /** Size of the file the null-ssh build uploads, in MiB (default 4). */
  uploadMiB?: number;
  /** null-ssh: the last provisioner first touches `long-command-started` and sleeps this long. */
  longCommandSeconds?: number;
  /** Emulator timings (aws). */
  emulator?: { pendingMs?: number; shuttingDownMs?: number; imagePendingMs?: number };
}

const AWS_ENV = { AWS_POLL_DELAY_SECONDS: "0.05" };

async function sha256(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every file under `root` (relative path → sha-256), `skip` excluded. */
export async function fileDigests(
  root: string,
  skip: string[] = [],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, e.name);
      const rel = path.slice(root.length + 1);
      if (skip.includes(rel)) continue;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) out[rel] = await sha256(path);
    }
  };
  await walk(root);
  return out;
}

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** A counter line per provisioner run: `echo pN >> counter`. */
function counted(index: number, counter: string, extra: string[] = []): { inline: string[] } {
  return { inline: [`echo p${index} >> ${counter}`, ...extra] };
}

async function scratch(kind: LabKind): Promise<{ dir: string; home: string; tmp: string }> {
  const dir = await Deno.makeTempDir({ prefix: `kiln-rel-${kind}-` });
  const tmp = join(dir, "tmp");
  await Deno.mkdir(tmp);
  return { dir, home: join(dir, ".kiln"), tmp };
}

function spawnIn(
  s: { dir: string; home: string; tmp: string },
  base: Record<string, string>,
): (env?: Record<string, string>) => KilnSpawnOptions {
  return (env = {}) => ({ cwd: s.dir, home: s.home, tmp: s.tmp, env: { ...base, ...env } });
}

/** Opens a fresh lab of `kind`. */
export async function openLab(kind: LabKind, options: LabOptions = {}): Promise<Lab> {
  if (kind === "null-ssh") return await nullSshLab(options);
  if (kind === "file") return await fileLab(options);
  return await awsLab(options);
}

async function nullSshLab(options: LabOptions): Promise<Lab> {
  const s = await scratch("null-ssh");
  const remote = join(s.dir, "remote");
  await Deno.mkdir(remote);
  const key = await generateKey(s.dir, "client");
  const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
  const counter = join(s.dir, "counter");
  const payload = join(s.dir, "payload.bin");
  await writeRandomFile(payload, options.uploadMiB ?? 4);
  const template = {
    variables: { secret: SENTINELS.sensitiveVariable },
    "sensitive-variables": ["secret"],
    builders: [{
      type: "null",
      ssh_host: sshd.host,
      ssh_port: sshd.port,
      ssh_username: sshd.user,
      ssh_private_key_file: key.privateKeyPath,
      ssh_timeout: "30s",
      ...options.builder,
    }],
    provisioners: options.provisioners ?? [
      {
        type: "shell",
        environment_vars: ["SECRET={{user `secret`}}"],
        ...counted(0, counter, [`echo "using $SECRET" && echo p0-done > ${remote}/p0.txt`]),
      },
      { type: "file", source: payload, destination: `${remote}/payload.bin` },
      {
        type: "shell",
        inline: [
          ...(options.longCommandSeconds
            ? [`touch ${s.dir}/long-command-started`, `sleep ${options.longCommandSeconds}`]
            : []),
          ...counted(2, counter, [`sha256sum ${remote}/payload.bin > ${remote}/sum`]).inline,
        ],
      },
    ],
  };
  const file = join(s.dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  return {
    kind: "null-ssh",
    ...s,
    buildArgs: [file],
    spawn: spawnIn(s, {}),
    counter: () => lines(counter),
    artifacts: async () => {
      // The payload is random per lab: what counts is that it arrived whole.
      const source = await sha256(payload);
      const out = await fileDigests(remote);
      const whole = (digest?: string) =>
        digest === undefined ? "missing" : digest === source ? "whole" : "differs";
      out["payload.bin"] = whole(out["payload.bin"]);
      let sum: string | undefined;
      try {
        sum = (await Deno.readTextFile(join(remote, "sum"))).split(" ")[0];
      } catch {
        // Not written.
      }
      out.sum = whole(sum);
      return out;
    },
    leaks: () => Promise.resolve([]),
    launches: () => 0,
    outputs: [],
    sshd,
    close: async () => {
      await sshd.stop();
      await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
      await Deno.remove(s.dir, { recursive: true }).catch(() => {});
    },
  };
}

async function fileLab(options: LabOptions): Promise<Lab> {
  const s = await scratch("file");
  const out = join(s.dir, "output");
  const counter = join(s.dir, "counter");
  const template = {
    variables: { secret: SENTINELS.sensitiveVariable, out },
    "sensitive-variables": ["secret"],
    builders: [{
      type: "file",
      name: "site",
      content: "<h1>kiln reliability</h1>\n",
      target: "{{user `out`}}/site/index.html",
      ...options.builder,
    }],
    provisioners: options.provisioners ?? [
      {
        type: "shell-local",
        environment_vars: ["SECRET={{user `secret`}}"],
        ...counted(0, counter, ['echo "using $SECRET"']),
      },
      {
        type: "shell-local",
        ...counted(1, counter, ["printf 'about\\n' > {{user `out`}}/site/about.txt"]),
      },
    ],
    "post-processors": [[
      {
        type: "artifice",
        files: ["{{user `out`}}/site/index.html", "{{user `out`}}/site/about.txt"],
      },
      {
        type: "checksum",
        checksum_types: ["sha256"],
        output: "{{user `out`}}/{{.BuildName}}.{{.ChecksumType}}",
      },
    ]],
  };
  const file = join(s.dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  return {
    kind: "file",
    ...s,
    buildArgs: [file],
    spawn: spawnIn(s, {}),
    counter: () => lines(counter),
    artifacts: () => fileDigests(out),
    leaks: async (state) => {
      const site = state?.builds.site;
      if (site?.status === "succeeded") return [];
      // about.txt is the provisioner's own side effect until artifice makes it an artifact.
      const managed = Object.keys(site?.postProcessed ?? {}).length > 0;
      return Object.keys(await fileDigests(out))
        .filter((f) => managed || f !== "site/about.txt")
        .map((f) => `output/${f}`);
    },
    launches: () => 0,
    outputs: [out],
    close: () => Deno.remove(s.dir, { recursive: true }).catch(() => {}),
  };
}

async function awsLab(options: LabOptions): Promise<Lab> {
  const ws = await awsWorkspace({
    pendingMs: 20,
    shuttingDownMs: 20,
    imagePendingMs: 20,
    ...options.emulator,
    faults: options.faults,
  });
  const tmp = join(ws.dir, "tmp");
  await Deno.mkdir(tmp);
  const s = { dir: ws.dir, home: ws.home, tmp };
  const counter = join(ws.dir, "counter");
  const template = amazonTemplate(
    ws,
    { aws_polling: { max_attempts: 400 }, ...options.builder },
    options.provisioners ?? [
      { type: "shell", ...counted(0, counter, ['echo built > "$KILN_INSTANCE_ROOT/etc-motd"']) },
      { type: "shell", ...counted(1, counter) },
    ],
  );
  template.variables = { secret: SENTINELS.awsSecretKey };
  const file = join(ws.dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  return {
    kind: "aws",
    ...s,
    buildArgs: [file],
    spawn: spawnIn(s, { ...AWS_ENV, AWS_ENDPOINT_URL_S3: ws.emulator.s3.endpoint }),
    counter: () => lines(counter),
    artifacts: () => {
      const l = ws.emulator.ledger();
      return Promise.resolve(Object.fromEntries(
        l.images.map((i, n) => [`ami${n}`, `${i.name} ${i.state} ${i.region}`]),
      ));
    },
    leaks: (state) => {
      const l = ws.emulator.ledger();
      const done = Object.values(state?.builds ?? {}).some((b) => b.status === "succeeded");
      const kept = done
        ? new Set([...l.images.map((i) => i.imageId), ...l.s3Objects.map((o) => `s3://${o}`)])
        : new Set<string>();
      return Promise.resolve(ws.emulator.leaks().filter((id) => !kept.has(id)));
    },
    launches: () => ws.emulator.ledger().launches,
    outputs: [],
    aws: ws,
    close: () => ws.close(),
  };
}
