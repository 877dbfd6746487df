/**
 * EC2 client for the amazon steps, built from the builder's access options.
 * The SDK is imported here and nowhere else, lazily, so `validate` and the
 * builds that never touch AWS don't pay for loading it.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { debugLogEnabled, sdkDebugLogger } from "../../runtime/debug_log.ts";
import { regionOf } from "./region.ts";

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
  /** Set when credentials are to come from Vault's AWS engine (not supported). */
  vault_aws_engine?: unknown;
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
    region: region ?? regionOf(config),
    access_key: config.access_key as string | undefined,
    secret_key: config.secret_key as string | undefined,
    token: config.token as string | undefined,
    profile: config.profile as string | undefined,
    custom_endpoint_ec2: config.custom_endpoint_ec2 as string | undefined,
    insecure_skip_tls_verify: config.insecure_skip_tls_verify as boolean | undefined,
    max_retries: config.max_retries as number | undefined,
    vault_aws_engine: config.vault_aws_engine,
  };
}

/**
 * Static credentials when `access_key`/`secret_key` are given; undefined
 * lets the SDK's default chain (env, profile) decide. Throws when the build
 * asks for Vault's AWS engine: the first AWS call of the build fails there,
 * before anything is created.
 */
export function staticCredentials(
  access: AccessConfig,
): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  if (access.vault_aws_engine) {
    throw new Error(
      "vault_aws_engine is not supported by kiln: it cannot fetch AWS credentials from " +
        "Vault's AWS secrets engine (no Vault client). Remove vault_aws_engine and give " +
        "access_key/secret_key, a profile, or credentials in the environment.",
    );
  }
  if (!access.access_key || !access.secret_key) return undefined;
  return {
    accessKeyId: access.access_key,
    secretAccessKey: access.secret_key,
    sessionToken: access.token || undefined,
  };
}

/** The TLS agent for `insecure_skip_tls_verify`, shared by the EC2, IAM and S3 clients. */
export async function requestHandlerFor(
  access: AccessConfig,
): Promise<Record<string, unknown> | undefined> {
  if (!access.insecure_skip_tls_verify) return undefined;
  const https = await import("node:https");
  return { httpsAgent: new https.Agent({ rejectUnauthorized: false }) };
}

/**
 * Retries when max_retries is unset: aws-sdk-go's default retryer, which is
 * what Packer 1.6.6 runs with (the JS SDK's own default is one fewer).
 */
const DEFAULT_RETRIES = 3;

/** Packer's max_retries counts retries; the SDK counts attempts. */
export function maxAttemptsFor(access: AccessConfig): number {
  return (access.max_retries && access.max_retries > 0 ? access.max_retries : DEFAULT_RETRIES) + 1;
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
  const credentials = staticCredentials(access);
  const { EC2Client } = await loadEc2Sdk();
  if (access.profile && !Deno.env.get("AWS_PROFILE")) Deno.env.set("AWS_PROFILE", access.profile);
  return new EC2Client({
    // Empty: the SDK's own chain decides (AWS_REGION, then the shared config's profile).
    region: access.region || undefined,
    endpoint: access.custom_endpoint_ec2 || undefined,
    credentials,
    maxAttempts: options.maxAttempts ?? maxAttemptsFor(access),
    requestHandler: await requestHandlerFor(access),
    // PACKER_LOG: every API call (the SDK leaves credentials out; the log masks secrets).
    logger: debugLogEnabled() ? sdkDebugLogger("aws ec2") : undefined,
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
  "InvalidLaunchTemplateId.NotFound",
  "InvalidLaunchTemplateName.NotFoundException",
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

/** One retry the SDK is about to make: logged as an `AwsRetry` event. */
export interface AwsRetry {
  /** The EC2 action, e.g. "RunInstances". */
  action: string;
  /** The error code of the attempt that failed ("RequestLimitExceeded", "InternalError", ...). */
  code: string;
  /** 1 for the first retry. */
  attempt: number;
  /** Attempts the SDK allows in all (max_retries + 1). */
  maxAttempts: number;
  /** How long the SDK's jittered backoff waited before this retry. */
  delayMs: number;
}

/**
 * Who is calling: a step (its `emit` puts each retry in the run log as an
 * `AwsRetry` event) or a resource handler during compensation / `kiln
 * cleanup` (no emit: the retry becomes a logged UI line instead).
 */
export interface AwsCaller {
  config: Record<string, unknown>;
  emit?(type: string, data?: Record<string, unknown>): Promise<void>;
  ui?: { message(message: string): void };
}

/** The event type a retry is logged as. */
export const AWS_RETRY_EVENT = "AwsRetry";

/** Logs one retry through the caller: an event from a step, a UI line from a handler. */
export async function reportRetry(caller: AwsCaller | undefined, retry: AwsRetry): Promise<void> {
  if (!caller) return;
  if (caller.emit) {
    await caller.emit(AWS_RETRY_EVENT, { ...retry });
  } else {
    caller.ui?.message(
      `${retry.action} failed (${retry.code}); retry ${retry.attempt} of ${
        retry.maxAttempts - 1
      } after ${retry.delayMs} ms`,
    );
  }
}

/** Per-request state the retry observer keeps on the SDK's handler context. */
interface RetryObserverState {
  kilnLastFailure?: { code: string; at: number };
}

/**
 * Makes every SDK retry visible. The SDK retries throttling and 5xx errors
 * itself (standard mode: exponential backoff with full jitter, up to
 * `maxAttempts`), invisibly. This middleware sits below the retry middleware
 * in the stack, so it runs once per attempt: it remembers the failure of an
 * attempt and, when the SDK comes back with the next attempt (its
 * `amz-sdk-request: attempt=N` header), reports that retry before it is sent.
 * Only retries the SDK really makes are reported, never a final failure.
 */
export function observeRetries(
  // Any SDK v3 client: the middleware below only reads headers and errors.
  client: { middlewareStack: Pick<EC2Client["middlewareStack"], "add"> },
  caller: () => AwsCaller | undefined,
): void {
  client.middlewareStack.add(
    // deno-lint-ignore no-explicit-any
    (next: any, context: any) => async (args: any) => {
      const state = context as RetryObserverState;
      const header = String(args?.request?.headers?.["amz-sdk-request"] ?? "");
      const attempt = Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1);
      const max = Number(/max=(\d+)/.exec(header)?.[1] ?? attempt);
      if (attempt > 1 && state.kilnLastFailure) {
        await reportRetry(caller(), {
          action: String(context?.commandName ?? "").replace(/Command$/, ""),
          code: state.kilnLastFailure.code,
          attempt: attempt - 1,
          maxAttempts: max,
          delayMs: Math.round(performance.now() - state.kilnLastFailure.at),
        });
      }
      try {
        return await next(args);
      } catch (err) {
        state.kilnLastFailure = { code: errorCode(err) || "NetworkError", at: performance.now() };
        throw err;
      }
    },
    { step: "finalizeRequest", priority: "low", name: "kilnRetryEvents" },
  );
}

interface ClientSlot {
  client: Promise<EC2Client>;
  /** The caller the retries of the current call are reported to. */
  caller?: AwsCaller;
}

const clients = new WeakMap<Record<string, unknown>, Map<string, ClientSlot>>();

/**
 * One client per build config and region, reused by every step of the build.
 * The client reports its retries to the latest caller: the steps of one
 * build run one after another, so that is the step making the call.
 */
export function ec2For(caller: AwsCaller, region?: string): Promise<EC2Client> {
  const config = caller.config;
  let byRegion = clients.get(config);
  if (!byRegion) clients.set(config, byRegion = new Map());
  const key = region ?? regionOf(config);
  let slot = byRegion.get(key);
  if (!slot) {
    const fresh: ClientSlot = {
      client: createEc2Client(accessConfig(config, region)).then((client) => {
        observeRetries(client, () => fresh.caller);
        return client;
      }),
    };
    byRegion.set(key, slot = fresh);
  }
  slot.caller = caller;
  return slot.client;
}
