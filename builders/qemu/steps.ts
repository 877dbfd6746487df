/**
 * The qemu builder's steps, in Packer's order: work and output
 * directories, the image (downloaded or in place), floppy and CD, disks,
 * HTTP server, ports, the VM (started, boot command typed), connect,
 * provision, shutdown, disk conversion. Steps Packer runs as no-ops for a
 * template are left out, so the log shows only what a build does.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import type { BuildInfo } from "../builder.ts";
import type { QemuConfig } from "./config.ts";
import { provisionStep } from "../../steps/common/provision.ts";
import { workspaceStep } from "../../steps/qemu/workspace.ts";
import { outputDirStep } from "../../steps/qemu/output_dir.ts";
import { sourceStep } from "../../steps/qemu/source.ts";
import { cdStep, floppyStep, wantsCd, wantsFloppy } from "../../steps/qemu/media.ts";
import { diskStep } from "../../steps/qemu/disk.ts";
import { httpStep, wantsHttp } from "../../steps/qemu/http.ts";
import { portsStep } from "../../steps/qemu/ports.ts";
import { runStep } from "../../steps/qemu/run.ts";
import { qemuConnectStep } from "../../steps/qemu/connect.ts";
import { shutdownStep } from "../../steps/qemu/shutdown.ts";
import { convertsDisk, convertStep } from "../../steps/qemu/convert.ts";

/** `ctx` with the build's typed config in place of the decoded one. */
function withConfig(ctx: StepContext, c: QemuConfig): StepContext {
  return Object.create(ctx, { config: { value: c } });
}

/** `step`, handed the typed config (Packer's zero values, derived facts) in every call. */
function typed<T extends Step>(step: T, c: QemuConfig): T {
  const s = step as Step & { reconnect?: (ctx: StepContext) => Promise<unknown> };
  return {
    ...s,
    run: (ctx: StepContext) => s.run(withConfig(ctx, c)),
    ...(s.compensate
      ? { compensate: (ctx: StepContext, out: unknown) => s.compensate!(withConfig(ctx, c), out) }
      : {}),
    ...(s.reconcile
      ? {
        reconcile: (ctx: StepContext, intents: Parameters<NonNullable<Step["reconcile"]>>[1]) =>
          s.reconcile!(withConfig(ctx, c), intents),
      }
      : {}),
    ...(s.reconnect ? { reconnect: (ctx: StepContext) => s.reconnect!(withConfig(ctx, c)) } : {}),
  } as unknown as T;
}

/** The steps of one qemu build, for its prepared, typed config. */
export function qemuSteps(c: QemuConfig, _build: BuildInfo): Step[] {
  return ([
    workspaceStep(),
    outputDirStep(),
    sourceStep(),
    ...(wantsFloppy(c) ? [floppyStep()] : []),
    ...(wantsCd(c) ? [cdStep()] : []),
    diskStep(),
    ...(wantsHttp(c) ? [httpStep()] : []),
    portsStep(),
    runStep(),
    qemuConnectStep(),
    provisionStep(),
    shutdownStep(),
    ...(convertsDisk(c) ? [convertStep()] : []),
  ] as Step[]).map((step) => typed(step, c));
}
