/** Post-processor registry (lazy, like the builder registry). */
import type { PostProcessorPlugin } from "./post_processor.ts";

const loaders: Record<string, () => Promise<PostProcessorPlugin>> = {
  "compress": () => import("./compress.ts").then((m) => m.compressPostProcessor),
  "checksum": () => import("./checksum.ts").then((m) => m.checksumPostProcessor),
  "manifest": () => import("./manifest.ts").then((m) => m.manifestPostProcessor),
  "shell-local": () => import("./shell_local.ts").then((m) => m.shellLocalPostProcessor),
  "artifice": () => import("./artifice.ts").then((m) => m.artificePostProcessor),
  "vagrant": () => import("./vagrant.ts").then((m) => m.vagrantPostProcessor),
};

/** Post-processor types kiln knows. */
export function postProcessorTypes(): string[] {
  return Object.keys(loaders);
}

/** Loads a post-processor by type, or undefined for an unknown type. */
export function loadPostProcessor(type: string): Promise<PostProcessorPlugin> | undefined {
  return Object.hasOwn(loaders, type) ? loaders[type]() : undefined;
}

export type {
  PostProcessContext,
  PostProcessorPlugin,
  PostProcessResult,
} from "./post_processor.ts";
