/**
 * The `shell-local` provisioner: runs scripts on the machine running kiln
 * (not on the build's machine), so it works with `"communicator": "none"`.
 */
import type { ProvisionerPlugin } from "./provisioner.ts";
import { shellLocalSchema } from "./shared/shell_local_config.ts";
import { runShellLocal } from "./shared/shell_local_run.ts";

/** The shell-local provisioner plugin. */
export const shellLocalProvisioner: ProvisionerPlugin = {
  type: "shell-local",
  schema: shellLocalSchema,
  needsCommunicator: false,
  async provision(ctx, config) {
    await runShellLocal({ ...ctx, buildData: ctx.buildData }, config);
  },
};
