/**
 * Process groups a killed kiln left running. Before a resumed run does
 * anything, and before `kiln cleanup` deletes anything, every live
 * `local.process_group` in the ledger is stopped (and recorded deleted):
 * otherwise the rerun provisioner would run beside the orphan of the first
 * attempt, or cleanup would delete files a script is still writing.
 */
import type { EventLog } from "./event_log.ts";
import { liveResources, type RunState } from "./fold.ts";
import { deleteResource } from "./compensate.ts";
import { errorMessage } from "./errors.ts";
import { LOCAL_PROCESS_GROUP } from "./process_group.ts";
import { logUi } from "./ui.ts";

/** One group, as the caller reports it. */
export interface LeftoverGroup {
  build: string;
  kind: string;
  id: string;
  /** Why it could not be stopped; absent when it was stopped (or already gone). */
  error?: string;
}

/** Stops every live process group in the ledger of `state`, newest first; logs each deletion. */
export async function stopLeftoverProcessGroups(
  log: EventLog,
  state: RunState,
  signal: AbortSignal,
): Promise<LeftoverGroup[]> {
  const done: LeftoverGroup[] = [];
  for (const b of Object.values(state.builds)) {
    const groups = liveResources(b).filter((e) => e.resource.kind === LOCAL_PROCESS_GROUP);
    if (groups.length === 0) continue;
    const ui = logUi(log, b.name, b.name);
    for (const e of groups.reverse()) {
      const r = e.resource;
      try {
        await deleteResource(
          {
            log,
            buildName: b.name,
            handlers: {},
            cleanupContext: { runId: log.runId, buildName: b.name, config: {}, ui, signal },
          },
          r,
          e.step,
        );
        done.push({ build: b.name, kind: r.kind, id: r.id });
      } catch (err) {
        ui.error(errorMessage(err));
        done.push({ build: b.name, kind: r.kind, id: r.id, error: errorMessage(err) });
      }
    }
  }
  return done;
}
