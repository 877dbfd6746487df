/**
 * The launch calls (RunInstances, CreateFleet) without the SDK's blind
 * retries: after a throttle, 5xx or lost response the instance may exist
 * although the call "failed", and an endpoint that ignores ClientToken would
 * launch a second one. So before each retry, look for an instance carrying
 * this run's tags and adopt it. Each retry is logged (`AwsRetry`) before its
 * backoff, so a crash during the backoff — after the call, before
 * `ResourceCreated` — is visible in the log and healed by reconcile.
 *
 * A launch naming an instance profile created moments ago is also retried:
 * IAM changes reach EC2 seconds later, and until then EC2 calls the profile
 * invalid (Packer retries the same way).
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { StepContext } from "../../runtime/types.ts";
import { accessConfig, createEc2Client, errorCode, isRetryable, reportRetry } from "./client.ts";
import { sleep } from "./wait.ts";

/** How often a launch waits for a new instance profile to reach EC2. */
const PROFILE_ATTEMPTS = 11;

/** EC2's answer while an instance profile has not propagated from IAM yet. */
export function isProfileNotReady(err: unknown): boolean {
  return errorCode(err) === "InvalidParameterValue" &&
    /iamInstanceProfile/i.test(String((err as Error).message));
}

/**
 * Calls `launch` until it answers, adopting the instance `findExisting`
 * returns after a failed attempt. Returns what `launch` or `findExisting`
 * returned.
 */
export async function launchAdopting<T>(
  ctx: StepContext,
  action: string,
  launch: (ec2: EC2Client) => Promise<T>,
  findExisting: () => Promise<T | undefined>,
): Promise<T> {
  const ec2 = await createEc2Client(accessConfig(ctx.config), { maxAttempts: 1 });
  const retries = Number(ctx.config.max_retries ?? 0) > 0 ? Number(ctx.config.max_retries) : 5;
  let transientFailures = 0;
  let profileFailures = 0;
  try {
    for (;;) {
      try {
        return await launch(ec2);
      } catch (err) {
        const transient = isRetryable(err);
        const profile = !transient && isProfileNotReady(err);
        if (transient ? ++transientFailures > retries : !profile) throw err;
        if (profile && ++profileFailures >= PROFILE_ATTEMPTS) throw err;
        const attempt = transient ? transientFailures : profileFailures;
        // Full jitter, as the SDK's standard retry mode: concurrent builds
        // throttled together must not retry in lockstep.
        const delayMs = Math.round(Math.random() * Math.min(200 * 2 ** attempt, 5_000));
        await reportRetry(ctx, {
          action,
          code: errorCode(err) || "NetworkError",
          attempt,
          maxAttempts: (transient ? retries : PROFILE_ATTEMPTS - 1) + 1,
          delayMs,
        });
        await sleep(delayMs, ctx.signal);
        if (!transient) continue;
        const existing = await findExisting().catch(() => undefined);
        if (existing !== undefined) {
          ctx.ui.message(`${action} failed (${errorCode(err)}), but the instance exists`);
          return existing;
        }
      }
    }
  } finally {
    ec2.destroy();
  }
}
