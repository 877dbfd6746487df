/**
 * Packer's `start_retry_timeout` loop: retry an operation that failed to
 * start (the machine may be rebooting) every couple of seconds until the
 * timeout passes; cancellation stops it at once.
 */
import { sleep } from "../../runtime/sleep.ts";

/** Runs `fn` until it succeeds or `timeoutMs` has passed since the first try. */
export async function retryUntil<T>(
  timeoutMs: number,
  signal: AbortSignal,
  fn: () => Promise<T>,
  intervalMs = 2000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (Date.now() + intervalMs > deadline) {
        throw new Error(`Retryable error: ${(err as Error).message}`);
      }
    }
    await sleep(intervalMs, signal);
  }
}
