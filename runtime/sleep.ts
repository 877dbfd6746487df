/** The one abortable sleep every retry and polling loop uses, and timers of any length. */

/**
 * The longest delay a JavaScript timer honours (2^31 - 1 ms, about 24.8
 * days): a longer one fires at once, so `"timeout": "1000h"` would time a
 * provisioner out immediately. Longer delays are chained from shorter ones.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms` (any length, unlike setTimeout); returns a function
 * that cancels it.
 */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  const due = Date.now() + ms;
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const left = due - Date.now();
    timer = setTimeout(left > MAX_TIMER_MS ? arm : fn, Math.min(Math.max(left, 0), MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as
 * `signal` aborts (at once if it already has), clearing its timer either way.
 *
 * ```ts
 * await sleep(2_000, ctx.signal); // a cancelled build stops waiting at once
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("cancelled"));
    const cancel = setLongTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      cancel();
      reject(signal?.reason ?? new Error("cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
