/**
 * Where the runtime finds builders, provisioners and post-processors: the
 * registries the top of kiln hands down (`components.ts`), which the
 * runtime never imports itself; a library user (or a test) may add or
 * replace types without touching them.
 */
import type { ComponentKind, ComponentRegistry } from "../template/registry.ts";
import type {
  BuilderPlugin,
  CommonSteps,
  PostProcessorPlugin,
  ProvisionerPlugin,
} from "./plugin_types.ts";

/** The component registries, with the runtime's view of each component. */
export interface PluginRegistry extends ComponentRegistry {
  builders: ComponentKind<BuilderPlugin>;
  provisioners: ComponentKind<ProvisionerPlugin>;
  postProcessors: ComponentKind<PostProcessorPlugin>;
}

/** Everything from the floors above the runtime that a build needs. */
export interface Components extends PluginRegistry {
  steps: CommonSteps;
}

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

/** A PluginSource over `registry` and `overrides`. */
export function pluginSource(
  registry: PluginRegistry,
  overrides: PluginOverrides = {},
): PluginSource {
  const pick = <T>(
    map: Record<string, T> | undefined,
    type: string,
    kind: ComponentKind<T>,
  ): Promise<T | undefined> =>
    map && Object.hasOwn(map, type) ? Promise.resolve(map[type]) : kind.load(type) ??
      Promise.resolve(undefined);
  return {
    builder: (t) => pick(overrides.builders, t, registry.builders),
    provisioner: (t) => pick(overrides.provisioners, t, registry.provisioners),
    postProcessor: (t) => pick(overrides.postProcessors, t, registry.postProcessors),
  };
}
