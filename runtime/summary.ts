/** The closing lines of a run, worded as Packer words them. */
import type { BuildOutcome } from "./build_runner.ts";
import type { logUi } from "./ui.ts";
import { humanDuration } from "./duration.ts";

/** Logs (and so prints) the "Wait completed" / errors / artifacts summary. */
export function summary(ui: ReturnType<typeof logUi>, outcomes: BuildOutcome[], ms: number): void {
  ui.raw(`\n==> Wait completed after ${humanDuration(ms)}`);
  const failed = outcomes.filter((o) => o.status !== "succeeded");
  if (failed.length > 0) {
    ui.raw(
      "\n==> Some builds didn't complete successfully and had errors:\n" +
        failed.map((o) => `--> ${o.name}: ${o.error ?? o.status}`).join("\n"),
    );
  }
  const good = outcomes.filter((o) => o.status === "succeeded" && o.artifacts.length > 0);
  if (good.length === 0) {
    ui.raw("\n==> Builds finished but no artifacts were created.");
    return;
  }
  ui.raw("\n==> Builds finished. The artifacts of successful builds are:");
  for (const o of good) {
    o.artifacts.forEach((a, i) => ui.raw(`--> ${o.name}: ${a.description}`, o.name, i));
  }
}
