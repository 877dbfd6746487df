/** The builder plugin contract (it lives with the runtime, which drives builders). */
export type { BuilderPlugin, BuildInfo } from "../runtime/plugin_types.ts";
