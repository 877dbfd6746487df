/**
 * Resource kinds the runtime itself creates, whatever the builder: their
 * handlers are found here before the builder's, so compensation, `--resume`
 * and `kiln cleanup` undo them the same way for every build.
 */
import type { ResourceHandler } from "./types.ts";
import { LOCAL_PROCESS_GROUP, processGroupHandler } from "./process_group.ts";

/** Handlers by resource kind. */
export const coreResourceHandlers: Record<string, ResourceHandler> = {
  [LOCAL_PROCESS_GROUP]: processGroupHandler,
};
