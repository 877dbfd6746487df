/**
 * kiln's component registries, assembled: every builder, provisioner and
 * post-processor type, each loaded lazily (one dynamic import per type) so
 * `validate` never pays for a component's heavy dependencies. The lower
 * floors (template, runtime) never import the components; this is handed
 * down to them (`prepareTemplate`'s `registry`, and `components.ts`).
 */
import type { PluginRegistry } from "./runtime/plugins.ts";
import { builderTypes, loadBuilder } from "./builders/mod.ts";
import { loadProvisioner, provisionerTypes } from "./provisioners/mod.ts";
import { loadPostProcessor, postProcessorTypes } from "./post_processors/mod.ts";
import { dataSourceTypes, loadDataSource } from "./datasources/mod.ts";

/** The registries of kiln's own components. */
export const kilnRegistry: PluginRegistry = {
  builders: { types: builderTypes, load: loadBuilder },
  provisioners: { types: provisionerTypes, load: loadProvisioner },
  postProcessors: { types: postProcessorTypes, load: loadPostProcessor },
  dataSources: { types: dataSourceTypes, load: loadDataSource },
};
