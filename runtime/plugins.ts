/**
 * Where the runtime finds builders, provisioners and post-processors: the
 * lazy registries by default; a library user (or a test) may add or replace
 * types without touching them.
 */
import type { BuilderPlugin } from "../builders/builder.ts";
import type { ProvisionerPlugin } from "../provisioners/provisioner.ts";
import type { PostProcessorPlugin } from "../post_processors/post_processor.ts";
import { loadBuilder } from "../builders/mod.ts";
import { loadProvisioner } from "../provisioners/mod.ts";
import { loadPostProcessor } from "../post_processors/mod.ts";

/** Extra or replacement plugins by type. */
export interface PluginOverrides {
  builders?: Record<string, BuilderPlugin>;
  provisioners?: Record<string, ProvisionerPlugin>;
  postProcessors?: Record<string, PostProcessorPlugin>;
}

/** Resolves plugin types, overrides first. */
export interface PluginSource {
  builder(type: string): Promise<BuilderPlugin | undefined>;
  provisioner(type: string): Promise<ProvisionerPlugin | undefined>;
  postProcessor(type: string): Promise<PostProcessorPlugin | undefined>;
}

/** A PluginSource over the registries and `overrides`. */
export function pluginSource(overrides: PluginOverrides = {}): PluginSource {
  const pick = <T>(
    map: Record<string, T> | undefined,
    type: string,
    load: (t: string) => Promise<T> | undefined,
  ): Promise<T | undefined> =>
    map && Object.hasOwn(map, type) ? Promise.resolve(map[type]) : load(type) ??
      Promise.resolve(undefined);
  return {
    builder: (t) => pick(overrides.builders, t, loadBuilder),
    provisioner: (t) => pick(overrides.provisioners, t, loadProvisioner),
    postProcessor: (t) => pick(overrides.postProcessors, t, loadPostProcessor),
  };
}
