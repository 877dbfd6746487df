/**
 * The `sleep` provisioner: waits `duration` (a Go duration, "30s", "1m30s";
 * unset or negative waits nothing) and does nothing else, as Packer's. It
 * needs no communicator. Ctrl-C interrupts the wait like any provisioner
 * (the build's signal aborts it), so a long sleep never holds a cancelled
 * build; the runtime logs its start and end like the others' and, on
 * `--resume`, a finished sleep is not slept again.
 */
import type { ProvisionerPlugin } from "./provisioner.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The sleep provisioner. */
export const sleepProvisioner: ProvisionerPlugin = {
  type: "sleep",
  schema: {
    pluginType: "sleep",
    fields: {
      duration: { type: "duration", doc: "how long to wait (Go duration, e.g. 30s)" },
    },
  },
  needsCommunicator: false,
  async provision(ctx, config) {
    const ms = typeof config.duration === "number" ? config.duration : 0;
    // setTimeout holds at most 2^31-1 ms (~24.8 days); longer waits go in steps.
    for (let left = Math.max(0, ms); left > 0; left -= MAX_TIMER_MS) {
      await sleep(Math.min(left, MAX_TIMER_MS), ctx.signal);
    }
  },
};

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
