/**
 * The qemu builder (Packer's `qemu`, artifact id `transcend.qemu`): a VM
 * image built by booting an ISO or a disk image under qemu, provisioning it
 * and finalising its disk. The schema is config.ts; the steps, artifact and
 * ledger resources are steps.ts's to fill.
 */
import type { BuilderPlugin } from "../builder.ts";
import { qemuConfig, qemuSchema } from "./config.ts";
import { qemuSteps } from "./steps.ts";

/** Packer's artifact id for this builder. */
export const QEMU_BUILDER_ID = "transcend.qemu";

/** The qemu builder. */
export const qemuBuilder: BuilderPlugin = {
  type: "qemu",
  schema: qemuSchema,
  steps: (config, build) => qemuSteps(qemuConfig(config), build),
  artifact: () => undefined,
  resources: {},
};
