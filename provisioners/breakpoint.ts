/**
 * The `breakpoint` provisioner: pauses the build until the user presses
 * Enter. Without a terminal to ask on it fails, as Packer does ("no
 * available tty"), rather than hanging a CI job or silently continuing.
 */
import type { ProvisionerPlugin } from "./provisioner.ts";

/** Reads one line from the terminal; rejects when `signal` aborts. */
export type LineReader = (signal: AbortSignal) => Promise<void>;

/** The message Packer fails with when it cannot ask. */
export const NO_TTY = "Error asking for input: no available tty";

/** The breakpoint provisioner, reading from `stdin` when it is a terminal. */
export const breakpointProvisioner: ProvisionerPlugin = makeBreakpoint(
  () => Deno.stdin.isTerminal(),
  waitForEnter,
);

/** A breakpoint provisioner with its terminal injected (tests use a fake one). */
export function makeBreakpoint(isTerminal: () => boolean, readLine: LineReader): ProvisionerPlugin {
  return {
    type: "breakpoint",
    schema: {
      fields: {
        disable: { type: "bool", default: false, doc: "skip this breakpoint" },
        note: { type: "string", doc: "shown when the build pauses here" },
      },
    },
    needsCommunicator: false,
    async provision(ctx, config) {
      const note = typeof config.note === "string" ? config.note : "";
      if (config.disable === true) {
        ctx.ui.say(
          note === ""
            ? "Breakpoint provisioner disabled; continuing..."
            : `Breakpoint provisioner with note "${note}" disabled; continuing...`,
        );
        return;
      }
      ctx.ui.say(
        note === ""
          ? "Pausing at breakpoint provisioner."
          : `Pausing at breakpoint provisioner with note "${note}".`,
      );
      if (!isTerminal()) throw new Error(NO_TTY);
      ctx.ui.say("Press enter to continue.");
      await readLine(ctx.signal);
    },
  };
}

/** Waits for a newline on stdin; aborting stops waiting (the read is left to finish). */
async function waitForEnter(signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const buf = new Uint8Array(1);
  const read = (async () => {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 0x0a) return;
    }
  })();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([read, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}
