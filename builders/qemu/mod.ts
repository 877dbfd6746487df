/**
 * The qemu builder (Packer's `qemu`, artifact id `transcend.qemu`): a VM
 * image built by booting an ISO or a disk image under qemu, provisioning it
 * and finalising its disk. The schema is config.ts, the steps steps.ts;
 * the VM, the output directory and the work directory are ledger resources.
 */
import type { BuilderPlugin } from "../builder.ts";
import { qemuConfig, qemuSchema } from "./config.ts";
import { qemuSteps } from "./steps.ts";
import { QEMU_BUILDER_ID, qemuArtifact } from "./artifact.ts";
import { OUTPUT_DIR_KIND, outputDirHandler } from "../../steps/qemu/output_dir.ts";
import { WORKSPACE_KIND, workspaceHandler } from "../../steps/qemu/workspace.ts";
import { VM_KIND, vmHandler } from "../../steps/qemu/vm.ts";

export { QEMU_BUILDER_ID };

/** The qemu builder. */
export const qemuBuilder: BuilderPlugin = {
  type: "qemu",
  schema: { ...qemuSchema, pluginType: "transcend.qemu" },
  steps: (config, build) => qemuSteps(qemuConfig(config), build),
  localPaths: (config) => [String(config.output_directory)],
  artifact: qemuArtifact,
  resources: {
    [VM_KIND]: vmHandler,
    [OUTPUT_DIR_KIND]: outputDirHandler,
    [WORKSPACE_KIND]: workspaceHandler,
  },
};
