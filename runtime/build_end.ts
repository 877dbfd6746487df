/** The end of one build: Packer's closing line for it, and the BuildFinished record. */
import type { EventLog } from "./event_log.ts";
import { EventType as E } from "./events.ts";
import type { BuildOutcome } from "./build_runner.ts";
import { logUi } from "./ui.ts";
import { humanDuration } from "./duration.ts";

/** Prints "Build 'x' finished/errored after ...", logs BuildFinished, returns the outcome. */
export function endBuild(
  log: EventLog,
  name: string,
  startedAt: number,
  end: Omit<BuildOutcome, "name" | "artifacts"> & { artifacts?: BuildOutcome["artifacts"] },
): BuildOutcome {
  const elapsed = humanDuration(performance.now() - startedAt);
  const ui = logUi(log, name);
  if (end.status === "succeeded") ui.raw(`Build '${name}' finished after ${elapsed}.`);
  else ui.error(`Build '${name}' errored after ${elapsed}: ${end.error}`);
  const artifacts = end.artifacts ?? [];
  log.append({
    build: name,
    type: E.BuildFinished,
    data: {
      status: end.status,
      ...(end.error !== undefined ? { error: end.error } : {}),
      ...(end.aborted ? { aborted: true } : {}),
      artifacts,
    },
  });
  return { name, status: end.status, artifacts, error: end.error, aborted: end.aborted };
}
