/**
 * Where the shared run store is and how to reach it, from the environment:
 *
 * - `KILN_STORE=s3://bucket[/prefix]` (or `--store`): the store.
 * - `KILN_STORE_KMS_KEY_ID` (a KMS key id, ARN or alias): KMS wraps each
 *   run's key; or else `KILN_STORE_KEY_FILE`: the team key (32 random
 *   bytes) that wraps it. One is required, because records are
 *   authenticated and secrets encrypted client-side; readers need the same
 *   access as writers. `KILN_STORE_KMS_ENDPOINT` (else `AWS_ENDPOINT_URL_KMS`)
 *   points at a KMS-compatible endpoint.
 * - `KILN_STORE_ENDPOINT` (else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`):
 *   an S3-compatible endpoint (MinIO, Ceph RGW), reached path-style.
 * - `KILN_STORE_LEASE_SECONDS` (60): how long a runner's lease lasts
 *   without renewal; another runner may resume the run after it expires.
 * - `KILN_STORE_WAIT_SECONDS` (300): how long a build waits for an
 *   unreachable store before it stops (before its next side effect).
 * - Credentials and region: the AWS SDK's standard chain
 *   (`AWS_REGION`/`AWS_DEFAULT_REGION`, default us-east-1).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** The store's settings. */
export interface StoreConfig {
  /** `s3://bucket/prefix/` as given (normalised), for messages. */
  url: string;
  bucket: string;
  /** Key prefix, empty or ending in `/`. */
  prefix: string;
  endpoint?: string;
  region: string;
  /** The team key file (when KMS is not used, or to read runs wrapped by it). */
  keyFile?: string;
  /** The KMS key that wraps new runs' keys. */
  kmsKeyId?: string;
  kmsEndpoint?: string;
  leaseMs: number;
  waitMs: number;
}

/** The environment does not describe a usable store. */
export class StoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreConfigError";
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket[/prefix]`; throws StoreConfigError naming what is wrong. */
export function parseStoreUrl(url: string): { bucket: string; prefix: string; url: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url.trim());
  if (!m) {
    throw new StoreConfigError(
      `store "${url}": expected s3://bucket or s3://bucket/prefix (the only kind of store kiln has)`,
    );
  }
  const bucket = m[1];
  if (!BUCKET.test(bucket)) {
    throw new StoreConfigError(`store "${url}": "${bucket}" is not a valid S3 bucket name`);
  }
  const parts = (m[2] ?? "").split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) {
    throw new StoreConfigError(`store "${url}": the prefix may not contain "." or ".." segments`);
  }
  const prefix = parts.length ? `${parts.join("/")}/` : "";
  return { bucket, prefix, url: `s3://${bucket}/${prefix}` };
}

function seconds(env: (name: string) => string | undefined, name: string, dflt: number): number {
  const raw = env(name);
  if (raw === undefined || raw === "") return dflt * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new StoreConfigError(`${name}="${raw}": expected a positive number of seconds`);
  }
  return Math.round(n * 1000);
}

/** The store described by the environment, or undefined when KILN_STORE is unset. */
export function storeConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): StoreConfig | undefined {
  const raw = env("KILN_STORE");
  if (!raw) return undefined;
  const { bucket, prefix, url } = parseStoreUrl(raw);
  const keyFile = env("KILN_STORE_KEY_FILE") || undefined;
  const kmsKeyId = env("KILN_STORE_KMS_KEY_ID") || undefined;
  if (!keyFile && !kmsKeyId) {
    throw new StoreConfigError(
      `KILN_STORE=${url} needs KILN_STORE_KMS_KEY_ID or KILN_STORE_KEY_FILE: the key that ` +
        `encrypts run keys and secrets before they leave this machine (a KMS key every runner ` +
        `may use, or a team key file made with \`head -c 32 /dev/urandom > team.key && ` +
        `chmod 600 team.key\` and given to every runner)`,
    );
  }
  const endpoint = env("KILN_STORE_ENDPOINT") || env("AWS_ENDPOINT_URL_S3") ||
    env("AWS_ENDPOINT_URL") || undefined;
  return {
    url,
    bucket,
    prefix,
    endpoint,
    region: env("AWS_REGION") || env("AWS_DEFAULT_REGION") || "us-east-1",
    keyFile,
    kmsKeyId,
    kmsEndpoint: env("KILN_STORE_KMS_ENDPOINT") || env("AWS_ENDPOINT_URL_KMS") ||
      env("AWS_ENDPOINT_URL") || undefined,
    leaseMs: seconds(env, "KILN_STORE_LEASE_SECONDS", 60),
    waitMs: seconds(env, "KILN_STORE_WAIT_SECONDS", 300),
  };
}

/**
 * Where this machine keeps its working copies of a store's runs when
 * KILN_HOME is not set: one directory per store, under the user's cache.
 */
export function defaultCacheHome(url: string): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ||
    join(Deno.env.get("HOME") ?? "/root", ".cache");
  const id = createHash("sha256").update(url).digest("hex").slice(0, 16);
  return join(base, "kiln", "stores", id);
}
