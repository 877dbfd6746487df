/** Table rows built up one trial at a time. */
import type { ScenarioResult } from "../types.ts";

/** A row with no trials yet. */
export function emptyRow(scenario: string): ScenarioResult {
  return { scenario, trials: 0, passed: 0, leaked: 0, lostEvents: 0, failures: [] };
}

/** Counts one trial: passed without a problem, else its failure line. */
export function tally(result: ScenarioResult, what: string, problem: string | undefined): void {
  result.trials++;
  if (problem) result.failures.push(`${what}: ${problem}`);
  else result.passed++;
}
