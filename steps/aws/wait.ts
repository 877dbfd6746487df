/**
 * Polling with Packer's knobs: `aws_polling { delay_seconds, max_attempts }`,
 * overridden by AWS_POLL_DELAY_SECONDS / AWS_MAX_ATTEMPTS as Packer documents.
 * Describe calls right after a create may 404 (eventual consistency): the
 * caller's probe decides which errors mean "not yet".
 */
import { sleep } from "../../runtime/sleep.ts";

export { sleep };

/** Polling settings resolved from config and environment. */
export interface Polling {
  delayMs: number;
  maxAttempts: number;
}

/** Resolves polling settings; `fallback` is the waiter's own default. */
export function polling(
  config: Record<string, unknown>,
  fallback: Polling = { delayMs: 15_000, maxAttempts: 40 },
): Polling {
  const block = (config.aws_polling ?? {}) as { delay_seconds?: number; max_attempts?: number };
  const envDelay = Number(Deno.env.get("AWS_POLL_DELAY_SECONDS"));
  const envAttempts = Number(Deno.env.get("AWS_MAX_ATTEMPTS"));
  const delaySeconds = block.delay_seconds ?? (envDelay > 0 ? envDelay : undefined);
  const attempts = block.max_attempts ?? (envAttempts > 0 ? envAttempts : undefined);
  return {
    delayMs: delaySeconds !== undefined ? delaySeconds * 1000 : fallback.delayMs,
    maxAttempts: attempts ?? fallback.maxAttempts,
  };
}

/**
 * Calls `probe` until it returns a value (not undefined), at most
 * `maxAttempts` times, `delayMs` apart. Throws `what` on exhaustion.
 */
export async function waitFor<T>(
  what: string,
  settings: Polling,
  signal: AbortSignal,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (attempt < settings.maxAttempts) await sleep(settings.delayMs, signal);
  }
  throw new Error(`timed out waiting for ${what} (${settings.maxAttempts} attempts)`);
}
