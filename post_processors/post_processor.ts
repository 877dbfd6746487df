/** The post-processor plugin contract (it lives with the runtime, which runs post-processors). */
export type {
  PostProcessContext,
  PostProcessorPlugin,
  PostProcessResult,
} from "../runtime/plugin_types.ts";
