/** Where runs live: `$KILN_HOME/runs/<run-id>/` (KILN_HOME defaults to `./.kiln`). */
import { join, resolve } from "node:path";
import { isRunId } from "./run_id.ts";

/** The kiln home directory (absolute). */
export function kilnHome(): string {
  return resolve(Deno.env.get("KILN_HOME") || ".kiln");
}

/** The directory holding every run. */
export function runsRoot(home: string = kilnHome()): string {
  return join(home, "runs");
}

/** The directory of one run; refuses anything that is not a run id. */
export function runDir(runId: string, home: string = kilnHome()): string {
  if (!isRunId(runId)) {
    throw new Error(`"${runId}" is not a run id (expected e.g. 20261122T031500Z-ab12cd)`);
  }
  return join(runsRoot(home), runId);
}

/** The event log of one run. */
export function eventsPath(runId: string, home?: string): string {
  return join(runDir(runId, home), "events.jsonl");
}
