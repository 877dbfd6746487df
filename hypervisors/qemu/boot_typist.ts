/**
 * Types a boot command's key events into a VNC session at Packer's pace: a
 * pause after every key event (the key interval) and the command's own
 * waits. Cancelling stops between events and releases every key still held,
 * so an interrupted `<leftCtrlOn>` never leaves the guest with Ctrl down.
 */
import type { KeyStep } from "./boot_keys.ts";

/** Anything that can send a key event (the VNC client, or a recorder in tests). */
export interface KeySink {
  keyEvent(keysym: number, down: boolean): Promise<void>;
}

/** Pace and observation of typing. */
export interface TypeOptions {
  /** Pause after each key event, in milliseconds. */
  intervalMs: number;
  signal?: AbortSignal;
  /** Called after each step is done (for progress in the UI). */
  onStep?: (index: number, step: KeyStep) => void;
}

/** Sends `steps` in order; rejects with the signal's reason when cancelled. */
export async function typeKeySteps(
  sink: KeySink,
  steps: readonly KeyStep[],
  options: TypeOptions,
): Promise<void> {
  const held = new Set<number>();
  try {
    for (const [index, step] of steps.entries()) {
      options.signal?.throwIfAborted();
      if (step.type === "wait") {
        await pause(step.ms, options.signal);
      } else {
        await sink.keyEvent(step.keysym, step.down);
        if (step.down) held.add(step.keysym);
        else held.delete(step.keysym);
        if (options.intervalMs > 0) await pause(options.intervalMs, options.signal);
      }
      options.onStep?.(index, step);
    }
  } catch (e) {
    for (const keysym of held) await sink.keyEvent(keysym, false).catch(() => {});
    throw e;
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
