/**
 * Where a build's machine starts, decided from the fold alone: a fresh
 * build at its first step, an interrupted one at its first unfinished step,
 * one that died while undoing back in compensation, an aborted one
 * (resources still in place) at its failed step, a compensated one from
 * scratch. Logs the BuildStarted that says which.
 */
import type { EventLog } from "./event_log.ts";
import { EventType as E } from "./events.ts";
import { type BuildState, liveResources } from "./fold.ts";
import type { MachineStart } from "./machine.ts";
import type { Step } from "./types.ts";

/** Where the build's machine starts, from the fold; logs BuildStarted. */
export function startingPoint(
  log: EventLog,
  b: BuildState,
  steps: Step[],
  type: string,
): MachineStart {
  const firstOpen = () => {
    const i = steps.findIndex((s) => !b.completed.includes(s.id));
    return i < 0 ? { finish: true as const } : { step: i };
  };
  if (b.status === "pending") {
    log.append({ build: b.name, type: E.BuildStarted, data: { type } });
    return { step: 0 };
  }
  if (b.compensating) {
    // Died while undoing: finish undoing, never redo the work.
    log.append({ build: b.name, type: E.BuildStarted, data: { type, resumed: true } });
    return { compensate: b.compensationReason === "cancelled" ? "cancelled" : "failed" };
  }
  if (b.status === "failed" || b.status === "cancelled") {
    if (b.compensated || (b.completed.length === 0 && liveResources(b).length === 0)) {
      log.append({ build: b.name, type: E.BuildStarted, data: { type, restart: true } });
      return { step: 0 };
    }
    // Aborted with its resources in place: continue from the failed step.
    log.append({ build: b.name, type: E.BuildStarted, data: { type, redrive: true } });
    return firstOpen();
  }
  log.append({ build: b.name, type: E.BuildStarted, data: { type, resumed: true } });
  return firstOpen();
}
