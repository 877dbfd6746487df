/**
 * EC2 client for the amazon steps, built from the builder's access options.
 * The SDK is imported here and nowhere else, lazily, so `validate` and the
 * builds that never touch AWS don't pay for loading it.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";

/** The access options (subset of the builder config) a client needs. */
export interface AccessConfig {
  region: string;
  access_key?: string;
  secret_key?: string;
  token?: string;
  profile?: string;
  custom_endpoint_ec2?: string;
  insecure_skip_tls_verify?: boolean;
  max_retries?: number;
}

/** The SDK module, loaded once. */
export type Ec2Sdk = typeof import("@aws-sdk/client-ec2");

let sdk: Promise<Ec2Sdk> | undefined;

/** Loads `@aws-sdk/client-ec2` on first use. */
export function loadEc2Sdk(): Promise<Ec2Sdk> {
  sdk ??= import("@aws-sdk/client-ec2");
  return sdk;
}

/** Picks the access options out of a decoded builder config. */
export function accessConfig(config: Record<string, unknown>, region?: string): AccessConfig {
  return {
    region: region ?? String(config.region ?? ""),
    access_key: config.access_key as string | undefined,
    secret_key: config.secret_key as string | undefined,
    token: config.token as string | undefined,
    profile: config.profile as string | undefined,
    custom_endpoint_ec2: config.custom_endpoint_ec2 as string | undefined,
    insecure_skip_tls_verify: config.insecure_skip_tls_verify as boolean | undefined,
    max_retries: config.max_retries as number | undefined,
  };
}

/**
 * Creates an EC2 client: static keys when given, else the SDK's default chain
 * (env, profile). `maxAttempts: 1` turns the SDK's own retries off, for calls
 * whose retry must first look for what a lost response created.
 */
export async function createEc2Client(
  access: AccessConfig,
  options: { maxAttempts?: number } = {},
): Promise<EC2Client> {
  const { EC2Client } = await loadEc2Sdk();
  if (access.profile && !Deno.env.get("AWS_PROFILE")) Deno.env.set("AWS_PROFILE", access.profile);
  const credentials = access.access_key && access.secret_key
    ? {
      accessKeyId: access.access_key,
      secretAccessKey: access.secret_key,
      sessionToken: access.token || undefined,
    }
    : undefined;
  let requestHandler: Record<string, unknown> | undefined;
  if (access.insecure_skip_tls_verify) {
    const https = await import("node:https");
    requestHandler = { httpsAgent: new https.Agent({ rejectUnauthorized: false }) };
  }
  return new EC2Client({
    region: access.region,
    endpoint: access.custom_endpoint_ec2 || undefined,
    credentials,
    // Packer's max_retries counts retries; the SDK counts attempts.
    maxAttempts: options.maxAttempts ??
      (access.max_retries && access.max_retries > 0 ? access.max_retries + 1 : undefined),
    requestHandler,
  });
}

/** EC2 error codes meaning "already gone": deletion treats them as success. */
const notFoundCodes = new Set([
  "InvalidInstanceID.NotFound",
  "InvalidKeyPair.NotFound",
  "InvalidGroup.NotFound",
  "InvalidAMIID.NotFound",
  "InvalidAMIID.Unavailable",
  "InvalidSnapshot.NotFound",
  "InvalidSpotInstanceRequestID.NotFound",
  "NoSuchEntity",
]);

/** The EC2 error code of an SDK error ("" when it is not one). */
export function errorCode(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const e = err as { name?: string; Code?: string; code?: string };
  return e.Code ?? e.code ?? e.name ?? "";
}

const throttlingCodes = new Set([
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "InternalError",
  "Unavailable",
  "ServiceUnavailable",
]);

/** True for throttling, 5xx and network errors: the call may be tried again. */
export function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable || throttlingCodes.has(errorCode(err))) return true;
  const status = e.$metadata?.httpStatusCode;
  // No status at all: the request never got an answer (connection reset, timeout).
  return status === undefined ? !(err instanceof TypeError) : status >= 500;
}

/** True when the error says the resource does not exist. */
export function isNotFound(err: unknown): boolean {
  return notFoundCodes.has(errorCode(err));
}

const clients = new WeakMap<Record<string, unknown>, Map<string, Promise<EC2Client>>>();

/** One client per build config and region, reused by every step of the build. */
export function ec2For(config: Record<string, unknown>, region?: string): Promise<EC2Client> {
  let byRegion = clients.get(config);
  if (!byRegion) clients.set(config, byRegion = new Map());
  const key = region ?? String(config.region ?? "");
  let client = byRegion.get(key);
  if (!client) byRegion.set(key, client = createEc2Client(accessConfig(config, region)));
  return client;
}
