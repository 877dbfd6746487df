/**
 * Packer's shutdown step: `shutdown_command` run in the guest, then up to
 * `shutdown_timeout` for qemu to exit (a clean exit flushes the disk
 * before it is finalised); without a command the VM is halted. Either way
 * the VM leaves the ledger. A resumed process whose VM already exited
 * finds the step done.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import type { QemuConfig } from "./config.ts";
import { stopQemu } from "../../hypervisors/qemu/process.ts";
import { ensureCommunicator } from "../common/connect.ts";
import { sleep } from "../../runtime/sleep.ts";
import { outputOf, QEMU_STEP, type RunOutput } from "./outputs.ts";
import { VM_KIND, vmAlive } from "./vm.ts";
import { disconnected } from "./connect.ts";

const POLL_MS = 200;

async function gracefully(ctx: StepContext, c: QemuConfig, run: RunOutput): Promise<void> {
  ctx.ui.say("Gracefully halting virtual machine...");
  const comm = ctx.comm ?? await ensureCommunicator(ctx);
  // The connection usually drops as the guest goes down: that is no failure.
  await comm.start({
    command: String(c.shutdown_command),
    stdout: () => {},
    stderr: () => {},
    signal: ctx.signal,
  }).catch((err) =>
    ctx.ui.message(`shutdown command: ${err instanceof Error ? err.message : err}`)
  );
  await disconnected(ctx);
  ctx.ui.say("Waiting for shutdown...");
  const end = Date.now() + c.shutdown_timeout;
  while (vmAlive(run.identity)) {
    if (Date.now() > end) throw new Error("Timeout while waiting for machine to shutdown.");
    await sleep(POLL_MS, ctx.signal);
  }
}

/** Shuts the guest down and waits for qemu to exit. */
export function shutdownStep(): Step<Record<string, never>> {
  return {
    id: QEMU_STEP.shutdown,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const run = outputOf<RunOutput>(ctx, QEMU_STEP.run);
      if (vmAlive(run.identity)) {
        if (c.shutdown_command) {
          await gracefully(ctx, c, run);
        } else {
          ctx.ui.say("Halting the virtual machine...");
          await disconnected(ctx);
          await stopQemu(run.identity, { graceful: false });
        }
      } else {
        await disconnected(ctx);
      }
      await ctx.deleted({ kind: VM_KIND, id: run.identity.tag });
      return {};
    },
  };
}
