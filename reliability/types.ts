/**
 * The reliability campaign's contract: every scenario module exports one or
 * more `Scenario`s, the runner executes them and renders one table.
 */

/** How big a campaign to run: `fast` is the subset CI runs, `full` the whole campaign. */
export type CampaignSize = "fast" | "full";

/** One row of the campaign table. */
export interface ScenarioResult {
  /** Short name shown in the table ("SIGKILL at every event boundary (null over SSH)"). */
  scenario: string;
  /** Trials attempted. */
  trials: number;
  /** Trials whose every check held. */
  passed: number;
  /** Cloud or local resources left behind after the final resume/cleanup, summed over trials. */
  leaked: number;
  /** Events written before an interruption that a later read could not find, summed over trials. */
  lostEvents: number;
  /** One line per failed trial: what was expected and what happened. */
  failures: string[];
  /** What the row observed besides pass/fail: known gaps, facts a reader must know. */
  notes?: string[];
}

/** A family of trials. */
export interface Scenario {
  /** Group heading in the table (crash, signal, fault, bad input, secrets, concurrency, permissions). */
  group: string;
  /** Runs the trials; must not throw for a failed trial (report it in `failures`). */
  run(size: CampaignSize): Promise<ScenarioResult[]>;
}
