/** An AWS SDK S3 client for a loopback S3 endpoint (the emulator, or moto for cross-checks). */
import { S3Client } from "@aws-sdk/client-s3";

/** A path-style client with throwaway credentials; `maxAttempts` 1 (default) shows every error as is. */
export function s3ClientFor(endpoint: string, maxAttempts = 1): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    maxAttempts,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

/** What a failed SDK call looked like to the caller: the error's name and HTTP status. */
export interface SdkFailure {
  name: string;
  status?: number;
}

/** Awaits a call that must fail and returns its error's name and status; throws if it succeeded. */
export async function sdkFailure(call: Promise<unknown>): Promise<SdkFailure> {
  try {
    await call;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name ?? String(err), status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected the S3 call to fail, but it succeeded");
}
