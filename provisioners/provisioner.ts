/** The provisioner plugin contract (it lives with the runtime, which runs provisioners). */
export type { ProvisionContext, ProvisionerPlugin } from "../runtime/plugin_types.ts";
