/**
 * The `breakpoint` provisioner: pauses the build until the user presses
 * Enter on the terminal. Like Packer, it asks on the controlling terminal
 * (/dev/tty, so `kiln build t.json < /dev/null` in a terminal still pauses)
 * and fails with Packer's "no available tty" when there is none, rather
 * than hanging a CI job or silently continuing.
 */
import type { ProvisionerPlugin } from "./provisioner.ts";

/** A terminal opened for one question. */
export interface Terminal {
  /** Resolves when a line has been entered; rejects when `signal` aborts. */
  readLine(signal: AbortSignal): Promise<void>;
  close(): void;
}

/** The message Packer fails with when it cannot ask. */
export const NO_TTY = "Error asking for input: no available tty";

/** The breakpoint provisioner, asking on the controlling terminal. */
export const breakpointProvisioner: ProvisionerPlugin = makeBreakpoint(openControllingTerminal);

/** A breakpoint provisioner whose terminal comes from `openTerminal` (undefined: none). */
export function makeBreakpoint(openTerminal: () => Terminal | undefined): ProvisionerPlugin {
  return {
    type: "breakpoint",
    schema: {
      pluginType: "breakpoint",
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
      const terminal = openTerminal();
      if (!terminal) throw new Error(NO_TTY);
      try {
        ctx.ui.say("Press enter to continue.");
        await terminal.readLine(ctx.signal);
      } finally {
        terminal.close();
      }
    },
  };
}

/** Opens /dev/tty for reading, or undefined when the process has no controlling terminal. */
export function openControllingTerminal(): Terminal | undefined {
  let tty: Deno.FsFile;
  try {
    tty = Deno.openSync("/dev/tty", { read: true });
  } catch {
    return undefined;
  }
  let closed = false;
  const close = () => {
    if (!closed) tty.close();
    closed = true;
  };
  return {
    close,
    async readLine(signal) {
      signal.throwIfAborted();
      // Closing the terminal is what interrupts a pending read on cancel.
      const onAbort = () => close();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        const buf = new Uint8Array(256);
        for (;;) {
          const n = await tty.read(buf).catch((err) => {
            if (signal.aborted) throw signal.reason;
            throw err;
          });
          if (n === null || buf.subarray(0, n).includes(0x0a)) return;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
