/**
 * The `shell-local` post-processor: runs local scripts once per artifact and
 * passes the artifact on unchanged (it always keeps its input, as Packer's).
 */
import type { PostProcessorPlugin } from "./post_processor.ts";
import { shellLocalSchema } from "../provisioners/shared/shell_local_config.ts";
import { runShellLocal } from "../provisioners/shared/shell_local_run.ts";

/** The shell-local post-processor plugin. */
export const shellLocalPostProcessor: PostProcessorPlugin = {
  type: "shell-local",
  schema: shellLocalSchema,
  async postProcess(ctx, config, input) {
    const generated = input.state?.generated_data;
    const buildData = {
      ...(typeof generated === "object" && generated !== null
        ? generated as Record<string, unknown>
        : {}),
      // PACKER_RUN_UUID, as Packer exports it to every process it starts.
      ...(ctx.runUuid ? { PackerRunUUID: ctx.runUuid } : {}),
    };
    await runShellLocal({ ...ctx, buildData }, config);
    return { artifact: input, keep: true, forceOverride: true };
  },
};
