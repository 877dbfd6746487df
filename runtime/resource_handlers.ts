/**
 * Resource kinds the runtime itself creates, whatever the builder: their
 * handlers are found here before the builder's, so compensation, `--resume`
 * and `kiln cleanup` undo them the same way for every build.
 */
import type { ResourceHandler } from "./types.ts";
import { LOCAL_PROCESS_GROUP, processGroupHandler } from "./process_group.ts";
import { listenerHandler, LOCAL_LISTENER } from "./local_listener.ts";
import { localPathHandler } from "./local_path_resource.ts";

/**
 * The ledger kind of a temporary file a provisioner writes on this machine
 * (an inventory, a key file): claimed before it is written, removed when the
 * provisioner ends, and deleted by `cleanup` after a crash like any local path.
 */
export const PROVISIONER_TEMP_FILE = "provisioner.temp_file";

/** Handlers by resource kind. */
export const coreResourceHandlers: Record<string, ResourceHandler> = {
  [LOCAL_PROCESS_GROUP]: processGroupHandler,
  [LOCAL_LISTENER]: listenerHandler,
  [PROVISIONER_TEMP_FILE]: localPathHandler,
};
