/**
 * IAM client for the instance-profile step and its compensations, built from
 * the builder's access options. `@aws-sdk/client-iam` is loaded on first use
 * only. The endpoint follows the SDK's standard `AWS_ENDPOINT_URL_IAM`
 * setting (the emulator's tests point it at loopback).
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import {
  accessConfig,
  type AwsCaller,
  maxAttemptsFor,
  observeRetries,
  requestHandlerFor,
  staticCredentials,
} from "./client.ts";
import { debugLogEnabled, sdkDebugLogger } from "../../runtime/debug_log.ts";

/** The SDK module, loaded once. */
export type IamSdk = typeof import("@aws-sdk/client-iam");

let sdk: Promise<IamSdk> | undefined;

/** Loads `@aws-sdk/client-iam` on first use. */
export function loadIamSdk(): Promise<IamSdk> {
  sdk ??= import("@aws-sdk/client-iam");
  return sdk;
}

/** A new IAM client whose SDK retries are reported to `caller` (`AwsRetry` events). */
export async function createIamClient(caller: AwsCaller): Promise<IAMClient> {
  const access = accessConfig(caller.config);
  const credentials = staticCredentials(access);
  const { IAMClient } = await loadIamSdk();
  if (access.profile && !Deno.env.get("AWS_PROFILE")) Deno.env.set("AWS_PROFILE", access.profile);
  const client = new IAMClient({
    region: access.region,
    credentials,
    maxAttempts: maxAttemptsFor(access),
    requestHandler: await requestHandlerFor(access),
    // PACKER_LOG: every API call (the SDK leaves credentials out; the log masks secrets).
    logger: debugLogEnabled() ? sdkDebugLogger("aws iam") : undefined,
  });
  observeRetries(client, () => caller);
  return client;
}

/** Runs `fn` with a fresh IAM client, destroyed afterwards. */
export async function withIam<T>(
  caller: AwsCaller,
  fn: (iam: IAMClient, sdk: IamSdk) => Promise<T>,
): Promise<T> {
  const iam = await createIamClient(caller);
  try {
    return await fn(iam, await loadIamSdk());
  } finally {
    iam.destroy();
  }
}
