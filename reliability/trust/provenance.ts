/**
 * Trust: provenance before deletion, and a ledger that tells the truth.
 * Real `kiln` processes on real files: a failed build, a crash, a signal or
 * `kiln cleanup` may delete only what the run provably made and its
 * template could produce; the user's file at a target, a file swapped in
 * later, a planted symlink, a forged entry are left alone and reported;
 * post-processing is compensated like any step; and after every run
 * `runs show` lists as live exactly what exists. The trials live in
 * `provenance/`, one family per file.
 */
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { runScenario, sample } from "../support/trials.ts";
import { failingCases, failingTrial } from "./provenance/failing.ts";
import { crashTrial, eventCount } from "./provenance/crash.ts";
import { replaceCases, replaceTrial } from "./provenance/replace.ts";
import { forgeCases, forgeTrial } from "./provenance/forge.ts";
import { signalCases, signalTrial } from "./provenance/signals.ts";
import { type PpMode, ppTrial } from "./provenance/on_error.ts";
import { type Ending, showTrial } from "./provenance/runs_show.ts";

export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const full = size === "full";
  const pick = <T extends { fast?: boolean }>(all: T[]) => full ? all : all.filter((x) => x.fast);
  const rows: ScenarioResult[] = [];
  rows.push(
    await runScenario(
      "pre-existing target + failing build → kept",
      pick(failingCases),
      (fc) => fc.name,
      failingTrial,
    ),
  );
  for (const preexisting of [true, false]) {
    const n = await eventCount(preexisting);
    // After the last event (RunFinished) there is nothing left to interrupt.
    const seqs = Array.from({ length: n - 1 }, (_, i) => i + 1);
    rows.push(
      await runScenario(
        preexisting
          ? "kill -9 at every event boundary of a file build with a pre-existing target → cleanup keeps the user's file"
          : "kill -9 at every event boundary of a file build → cleanup leaves nothing of the run, ledger honest",
        full ? seqs : sample(seqs, 4),
        (seq) => `killed after event ${seq}`,
        (seq) => crashTrial(seq, preexisting),
      ),
    );
  }
  rows.push(
    await runScenario(
      "output replaced after the run → cleanup refuses, keeps it, once",
      pick(replaceCases),
      (rc) => rc.name,
      replaceTrial,
    ),
  );
  rows.push(
    await runScenario(
      "ledger entry outside the template's outputs → refused, never deleted",
      pick(forgeCases),
      (fc) => fc.name,
      forgeTrial,
    ),
  );
  rows.push(
    await runScenario(
      "SIGINT/SIGTERM during post-processing → compensated, nothing left",
      pick(signalCases),
      (sc) => sc.name,
      signalTrial,
      { concurrency: 1 },
    ),
  );
  const modes: PpMode[] = full ? ["cleanup", "abort, then kiln cleanup", "ask, retry"] : [
    "cleanup",
    "abort, then kiln cleanup",
  ];
  rows.push(
    await runScenario(
      "failing post-processor → outputs follow -on-error",
      modes,
      (m) => m,
      ppTrial,
    ),
  );
  const shared: Ending = "two builds share a manifest, one fails";
  const endings: Ending[] = full
    ? ["success", "failure", "abort, then cleanup", "cancel", shared, shared, shared]
    : ["success", "cancel", shared];
  rows.push(
    await runScenario(
      "runs show lists exactly what exists after success/failure/cancel/cleanup",
      endings,
      (e) => e,
      showTrial,
    ),
  );
  return rows;
}
