/**
 * Turning trials into table rows: each trial returns an outcome (never
 * throws for a failed check), trials run a few at a time, and one that hangs
 * is stopped by a deadline and counted as failed.
 */
import type { ScenarioResult } from "../types.ts";
import { errorMessage } from "../../runtime/errors.ts";

/** What one trial found. */
export interface TrialOutcome {
  /** Every problem found; empty when the trial passed. */
  problems: string[];
  /** Resources left behind. */
  leaked: number;
  /** Events lost (see log_check.ts). */
  lost: number;
}

/** Collects a trial's problems as it checks them. */
export class Checks {
  problems: string[] = [];
  leaked = 0;
  lost = 0;

  /** Records `problem` unless `ok`. */
  expect(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  /** The outcome so far. */
  outcome(): TrialOutcome {
    return { problems: this.problems, leaked: this.leaked, lost: this.lost };
  }
}

/** How many trials run at once: the machine has 2 cores shared with others. */
export const TRIAL_CONCURRENCY = Number(Deno.env.get("KILN_RELIABILITY_CONCURRENCY") ?? "2");

/**
 * Runs `trial` for every item (at most `concurrency` at once) and sums the
 * outcomes into one table row; a trial that throws or outlives `deadlineMs`
 * is a failed trial, reported with its label.
 */
export async function runScenario<T>(
  scenario: string,
  items: T[],
  label: (item: T) => string,
  trial: (item: T) => Promise<TrialOutcome>,
  options: { concurrency?: number; deadlineMs?: number } = {},
): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    scenario,
    trials: items.length,
    passed: 0,
    leaked: 0,
    lostEvents: 0,
    failures: [],
  };
  const deadline = options.deadlineMs ?? 300_000;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      let timer: ReturnType<typeof setTimeout> | undefined;
      let outcome: TrialOutcome;
      try {
        outcome = await Promise.race([
          trial(item),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`hung: no outcome after ${deadline / 1000} s`)),
              deadline,
            );
          }),
        ]);
      } catch (err) {
        outcome = { problems: [`trial error: ${errorMessage(err)}`], leaked: 0, lost: 0 };
      } finally {
        clearTimeout(timer);
      }
      result.leaked += outcome.leaked;
      result.lostEvents += outcome.lost;
      if (outcome.problems.length === 0 && outcome.leaked === 0 && outcome.lost === 0) {
        result.passed++;
      } else {
        const why = outcome.problems.length > 0
          ? outcome.problems.join("; ")
          : `${outcome.leaked} leaked, ${outcome.lost} lost`;
        result.failures.push(`${label(item)}: ${why}`.slice(0, 2000));
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? TRIAL_CONCURRENCY, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return result;
}

/** `count` items spread evenly over `all` (all of them when it is short); always keeps the ends. */
export function sample<T>(all: T[], count: number): T[] {
  if (all.length <= count) return all;
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(all[Math.round((i * (all.length - 1)) / (count - 1))]);
  return [...new Set(out)];
}
