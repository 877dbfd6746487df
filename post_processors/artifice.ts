/**
 * The `artifice` post-processor: replaces the artifact's file list with the
 * files named in `files` (glob patterns, as Packer's filepath.Glob). The old
 * files are kept by default: artifice never deletes what it drops.
 */
import type { PostProcessorPlugin } from "./post_processor.ts";
import type { Artifact } from "../runtime/types.ts";
import { expandGlob } from "./glob.ts";

/** Artifice's artifact id. */
export const ARTIFICE_BUILDER_ID = "packer.post-processor.artifice";

/** The artifice post-processor plugin. */
export const artificePostProcessor: PostProcessorPlugin = {
  type: "artifice",
  schema: {
    pluginType: "artifice",
    fields: {
      files: { type: "string_list", doc: "files (globs) that make up the new artifact" },
    },
    check(config, report) {
      if (!Array.isArray(config.files) || config.files.length === 0) {
        report("files", "No files specified in artifice configuration");
      }
    },
  },
  adopts: (_ctx, config) => config.files as string[],
  async postProcess(ctx, config, input) {
    if (input.files.length > 0) {
      ctx.ui.say(`Discarding files from artifact: ${input.files.join(", ")}`);
    }
    const files: string[] = [];
    for (const pattern of config.files as string[]) {
      for (const file of await expandGlob(pattern)) files.push(file);
    }
    ctx.ui.say(`Using these artifact files: ${files.join(", ")}`);
    return { artifact: fileListArtifact(ARTIFICE_BUILDER_ID, files), keep: true };
  },
};

/** An artifact that is just a list of files (artifice's and checksum's). */
export function fileListArtifact(builderId: string, files: string[]): Artifact {
  return {
    builderId,
    id: "",
    files,
    description: `Created artifact from files: ${files.join(", ")}`,
  };
}
