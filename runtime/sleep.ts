/** The one abortable sleep every retry and polling loop uses. */

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
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
