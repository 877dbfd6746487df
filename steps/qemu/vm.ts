/**
 * The build's VM as a ledger resource. Its record holds the qemu identity
 * (boot id, pid, start time, QMP socket, run tag — see
 * hypervisors/qemu/process.ts), logged before qemu may run. After a
 * `kill -9` of kiln the VM runs on; the resumed process finds exactly it
 * again and reattaches over QMP, and `kiln cleanup` powers it off. A
 * record whose tag is not this run's, or whose process is another, is
 * never signalled.
 */
import type { ResourceHandler, StepContext } from "../../runtime/types.ts";
import { DeletionRefused } from "../../runtime/errors.ts";
import {
  findByIdentity,
  type QemuIdentity,
  reattach,
  stopQemu,
} from "../../hypervisors/qemu/process.ts";
import type { QmpClient } from "../../hypervisors/qemu/qmp.ts";
import { optionalOutput, QEMU_STEP, type RunOutput } from "./outputs.ts";
import { workspaceName } from "./workspace.ts";

/** The ledger kind of the VM. */
export const VM_KIND = "qemu.vm";

const LIVE_KEY = "qemu.vm";

/** The run tag of a build's VM: the run id and the build, on qemu's command line. */
export function vmTag(runId: string, buildName: string): string {
  return `kiln-${runId}-${workspaceName(buildName)}`;
}

/** The identity in a VM record, if it is well formed. */
export function identityIn(data: Record<string, unknown> | undefined): QemuIdentity | undefined {
  const i = data?.identity as Record<string, unknown> | undefined;
  if (!i) return undefined;
  const str = (k: string) => typeof i[k] === "string" && i[k] !== "";
  if (typeof i.pid !== "number" || !Number.isInteger(i.pid) || i.pid <= 1) return undefined;
  if (!["startTicks", "bootId", "qmpSocket", "tag", "logFile"].every(str)) return undefined;
  return i as unknown as QemuIdentity;
}

/** How long the guest gets to power off when cleanup or a cancel stops it. */
const POWER_OFF_MS = 10_000;

/** Powers the VM off (ACPI, then quit, SIGTERM, SIGKILL), only if it is this run's. */
export const vmHandler: ResourceHandler = {
  local: true,
  async delete(ctx, r) {
    const identity = identityIn(r.data);
    if (!identity) throw new DeletionRefused(`the ledger's VM ${r.id} has no usable identity`);
    if (identity.tag !== vmTag(ctx.runId, ctx.buildName) || r.id !== identity.tag) {
      throw new DeletionRefused(
        `the ledger's VM ${r.id} carries the tag ${identity.tag}, which is not this build's`,
      );
    }
    const outcome = await stopQemu(identity, {
      timeoutMs: POWER_OFF_MS,
      onStep: (step) => ctx.ui.message(`VM ${identity.tag} (pid ${identity.pid}): ${step}`),
    });
    if (outcome !== "gone") ctx.ui.say(`Stopped the VM (pid ${identity.pid}): ${outcome}`);
  },
};

/**
 * The build's running VM: in a resumed process, found again and reattached
 * to over QMP (no second VM, no second boot). Throws, saying what to do,
 * when it is gone.
 */
export async function ensureVm(ctx: StepContext): Promise<QemuIdentity> {
  const run = optionalOutput<RunOutput>(ctx, QEMU_STEP.run);
  if (!run) throw new Error("qemu builder: the VM has not been started");
  const identity = run.identity;
  if (ctx.runtime?.live.has(LIVE_KEY)) return identity;
  let qmp: QmpClient;
  try {
    qmp = await reattach(identity);
  } catch (err) {
    throw new Error(
      `the build's VM cannot be resumed: ${err instanceof Error ? err.message : err}. ` +
        `Run \`kiln cleanup ${ctx.runId}\` and build again.`,
    );
  }
  const status = await qmp.queryStatus().catch(() => undefined);
  // qemu serves one client per socket: holding it would lock out cleanup's power-off.
  qmp.close();
  ctx.ui.say(
    `Reattached to the VM (pid ${identity.pid}, ${status?.status ?? "status unknown"}) over QMP`,
  );
  await ctx.emit("VmReattached", { tag: identity.tag, pid: identity.pid, status: status?.status });
  ctx.runtime?.live.set(LIVE_KEY, { close: () => Promise.resolve() });
  return identity;
}

/** Whether the VM still runs. */
export function vmAlive(identity: QemuIdentity): boolean {
  return findByIdentity(identity).alive;
}

/** Marks the VM as this process's (it started it): no reattaching needed. */
export function markStarted(ctx: StepContext): void {
  ctx.runtime?.live.set(LIVE_KEY, { close: () => Promise.resolve() });
}
