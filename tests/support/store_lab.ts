/**
 * A shared run store for tests: the project's S3 emulator on loopback, a
 * team key, and "runners" — kiln processes with their own KILN_HOME (their
 * own machine, as far as kiln can tell) that share the bucket.
 */
import { join } from "node:path";
import { type S3Emulator, startS3Emulator } from "./s3/mod.ts";
import { type KilnCliOutput, runKiln } from "./kiln_cli.ts";
import { type WatchedKiln, watchKiln } from "./kiln_process.ts";

/** A store, its bucket and the runners' environments. */
export interface StoreLab {
  s3: S3Emulator;
  dir: string;
  keyFile: string;
  bucket: string;
  prefix: string;
  /** The environment of runner `name` (its own KILN_HOME and seal dir). */
  env(name: string, extra?: Record<string, string>): Record<string, string>;
  /** Runs kiln as runner `name` to completion. */
  kiln(name: string, args: string[], extra?: Record<string, string>): Promise<KilnCliOutput>;
  /** Starts kiln as runner `name`, output read live. */
  watch(name: string, args: string[], extra?: Record<string, string>): WatchedKiln;
  /** Every object in the bucket, by key. */
  objects(): Map<string, Uint8Array>;
  /** Keys of run `runId`'s objects under `sub` (e.g. "log/"). */
  keys(runId: string, sub: string): string[];
  close(): Promise<void>;
}

/** Starts a lab; lease expiry is short (2 s) so takeovers are quick. */
export async function startStoreLab(options: { leaseSeconds?: number } = {}): Promise<StoreLab> {
  const bucket = "kiln-runs";
  const prefix = "team/";
  const s3 = await startS3Emulator({ buckets: [bucket] });
  const dir = await Deno.makeTempDir({ prefix: "kiln-store-lab-" });
  const keyFile = join(dir, "team.key");
  await Deno.writeFile(keyFile, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
  const env = (name: string, extra: Record<string, string> = {}) => ({
    KILN_STORE: `s3://${bucket}/${prefix}`,
    KILN_STORE_KEY_FILE: keyFile,
    KILN_STORE_ENDPOINT: s3.endpoint,
    KILN_STORE_LEASE_SECONDS: String(options.leaseSeconds ?? 2),
    AWS_ACCESS_KEY_ID: "AKIDKILNTEST",
    AWS_SECRET_ACCESS_KEY: "kiln-test-secret",
    AWS_REGION: "us-east-1",
    KILN_HOME: join(dir, name, "home"),
    KILN_SEAL_DIR: join(dir, name, "seals"),
    ...extra,
  });
  const objects = () => {
    const out = new Map<string, Uint8Array>();
    for (const [key, o] of s3.store.buckets.get(bucket)!.objects) out.set(key, o.body);
    return out;
  };
  return {
    s3,
    dir,
    keyFile,
    bucket,
    prefix,
    env,
    kiln: (name, args, extra) => runKiln(args, { cwd: dir, env: env(name, extra) }),
    watch: (name, args, extra) => watchKiln(args, { cwd: dir, env: env(name, extra) }),
    objects,
    keys: (runId, sub) =>
      [...objects().keys()].filter((k) => k.startsWith(`${prefix}${runId}/${sub}`)).sort(),
    close: async () => {
      await s3.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The run id a build printed (its replay hint). */
export function runIdOf(output: string): string {
  const m = /Run (\d{8}T\d{6}Z-[0-9a-f]{6})/.exec(output) ??
    /(\d{8}T\d{6}Z-[0-9a-f]{6})/.exec(output);
  if (!m) throw new Error(`no run id in:\n${output}`);
  return m[1];
}

/**
 * A null build whose provisioners leave marker files in `dir` (so a test
 * sees which ran), with a sensitive variable `token` used in a script and
 * a pause of `pauseSeconds` in the middle.
 */
export async function writeStoreTemplate(dir: string, pauseSeconds = 0): Promise<string> {
  const file = join(dir, "template.json");
  const template = {
    variables: { token: "", pause: String(pauseSeconds) },
    "sensitive-variables": ["token"],
    builders: [{ type: "null", communicator: "none" }],
    provisioners: [
      {
        type: "shell-local",
        environment_vars: ["TOKEN={{user `token`}}"],
        inline: [`echo "first with $TOKEN"`, `touch ${join(dir, "first.done")}`],
      },
      { type: "shell-local", inline: [`sleep {{user \`pause\`}}`] },
      {
        type: "shell-local",
        inline: [`echo second`, `touch ${join(dir, "second.done")}`],
      },
    ],
  };
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  return file;
}
