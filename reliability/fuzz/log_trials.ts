/**
 * Event-log trials on a real run's log: replay at every truncation point,
 * resume and cleanup at every line boundary (and mid-line), and every
 * single-field edit, which the hash chain must catch.
 */
import { join } from "node:path";
import { EventLogError, parseEventLog } from "../../runtime/log_reader.ts";
import { RunSeal } from "../../runtime/seal.ts";
import type { ScenarioResult } from "../types.ts";
import { badOutcome, type CliHost, runCliProcess, type TrialOutput } from "./run_cli.ts";
import type { LogCase } from "./log_edits.ts";
import { emptyRow, tally } from "./rows.ts";

/** A finished run to damage: where its log lives and how it was built. */
export interface RealRun {
  runId: string;
  /** The KILN_HOME it ran under. */
  home: string;
  /** The working directory it ran in (holds the template). */
  cwd: string;
  /** Its events.jsonl. */
  log: Uint8Array;
  /** Its seal.id: a copied log finds the run's seal (KILN_SEAL_DIR) through it. */
  sealId: string;
  /** The run key's MAC of a record hash: what every record must carry. */
  macOf: (hash: string) => string;
}

const RUN_ID = /run (\d{8}T\d{6}Z-[0-9a-f]+)/;

/** Builds `template` (copied into `cwd`) through the CLI and returns the run. */
export async function realRun(
  cli: CliHost,
  template: string,
  cwd: string,
  timeoutMs: number,
): Promise<RealRun> {
  await Deno.mkdir(cwd, { recursive: true });
  const file = join(cwd, "template.json");
  await Deno.copyFile(template, file);
  const home = join(cwd, ".kiln");
  const out = await cli.run({ args: ["build", file], cwd, env: { KILN_HOME: home } }, timeoutMs);
  const runId = RUN_ID.exec(out.stderr)?.[1];
  if (out.code !== 0 || !runId) {
    throw new Error(
      `could not build ${template} for the log trials: ${out.stderr}${out.stdout.slice(-1500)}`,
    );
  }
  return {
    runId,
    home,
    cwd,
    log: await Deno.readFile(logOf(home, runId)),
    sealId: await Deno.readTextFile(join(home, "runs", runId, "seal.id")),
    macOf: macOfRun(runId, join(home, "runs", runId)),
  };
}

function macOfRun(runId: string, dir: string): (hash: string) => string {
  const seal = RunSeal.load(runId, dir);
  if (!seal) throw new Error(`run ${runId} has no seal`);
  return (hash) => seal.recordMac(hash);
}

function logOf(home: string, runId: string): string {
  return join(home, "runs", runId, "events.jsonl");
}

/** A fresh KILN_HOME holding `run` with its log replaced by `bytes`. */
async function homeWithLog(run: RealRun, dir: string, bytes: Uint8Array): Promise<string> {
  const home = join(dir, "home");
  await Deno.remove(home, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(home, "runs", run.runId), { recursive: true, mode: 0o700 });
  await Deno.writeFile(logOf(home, run.runId), bytes, { mode: 0o600 });
  await Deno.writeTextFile(join(home, "runs", run.runId, "seal.id"), run.sealId, { mode: 0o600 });
  return home;
}

/**
 * `kiln replay` of the finished run's log cut at each offset. Its seal
 * covers every record, and no crash cuts below a seal (records are fsynced
 * before they are sealed), so every cut is tampering: replay must exit 1
 * naming the file and line; only the whole log verifies.
 */
export async function replayTruncations(
  cli: CliHost,
  run: RealRun,
  offsets: number[],
  dir: string,
  timeoutMs: number,
): Promise<ScenarioResult> {
  const result = emptyRow(
    `truncated log: replay at ${offsets.length} cut points → every cut below the seal caught`,
  );
  for (const at of offsets) {
    const home = await homeWithLog(run, dir, run.log.subarray(0, at));
    const out = await cli.run({ args: ["replay", run.runId], env: { KILN_HOME: home } }, timeoutMs);
    const whole = at === run.log.length;
    let problem = badOutcome(out, {
      allowSuccess: whole,
      mustName: whole ? undefined : "events.jsonl:",
    });
    if (!problem && whole && !out.stderr.includes("sealed log verified")) {
      problem = `replay did not verify the whole log: ${out.stderr.trim().split("\n").at(-1)}`;
    }
    tally(result, `cut at byte ${at}`, problem);
  }
  return result;
}

/**
 * `kiln build --resume` and `kiln cleanup` of the log cut at each offset:
 * a cut below the seal is refused with a clear error naming the log; the
 * whole log is accepted (cleanup runs, resume refuses a succeeded run).
 */
export async function resumeAndCleanupTruncations(
  cli: CliHost,
  run: RealRun,
  offsets: number[],
  dir: string,
  timeoutMs: number,
  viaProcessEvery: number,
): Promise<ScenarioResult> {
  const result = emptyRow(
    `truncated log: resume and cleanup at ${offsets.length} cut points → refused below the seal`,
  );
  let i = 0;
  for (const at of offsets) {
    for (const command of ["resume", "cleanup"] as const) {
      const home = await homeWithLog(run, dir, run.log.subarray(0, at));
      const args = command === "resume" ? ["build", "--resume", run.runId] : ["cleanup", run.runId];
      const request = { args, cwd: run.cwd, env: { KILN_HOME: home } };
      const out: TrialOutput = viaProcessEvery > 0 && i++ % viaProcessEvery === 0
        ? await runCliProcess(request, timeoutMs)
        : await cli.run(request, timeoutMs);
      const whole = at === run.log.length;
      let problem = badOutcome(out, {
        allowSuccess: whole,
        mustName: whole ? undefined : "events.jsonl:",
      });
      if (!problem && command === "resume" && out.code === 0) {
        try {
          parseEventLog(
            await Deno.readFile(logOf(home, run.runId)),
            "events.jsonl",
            run.runId,
            run.macOf,
          );
        } catch (err) {
          problem = `the resumed log does not verify: ${err instanceof Error ? err.message : err}`;
        }
      }
      tally(result, `${command} after a cut at byte ${at}`, problem);
    }
  }
  return result;
}

/**
 * Every edit must be refused by the log reader (what replay, resume, cleanup
 * and `runs` all read through); a sample also through `kiln replay`, which
 * must exit 1 naming the broken line.
 */
export async function editTrials(
  cli: CliHost,
  run: RealRun,
  scenario: string,
  cases: Iterable<LogCase>,
  dir: string,
  options: { replayEvery: number; processEvery: number; timeoutMs: number },
): Promise<ScenarioResult> {
  const result = emptyRow(scenario);
  let i = 0;
  for (const c of cases) {
    let problem: string | undefined;
    try {
      parseEventLog(c.bytes, "events.jsonl", run.runId, run.macOf);
      problem = "not caught: the edited log verified";
    } catch (err) {
      if (!(err instanceof EventLogError)) {
        problem = `reader crashed: ${err instanceof Error ? err.message : err}`;
      }
    }
    if (!problem && options.replayEvery > 0 && i % options.replayEvery === 0) {
      const home = await homeWithLog(run, dir, c.bytes);
      const request = { args: ["replay", run.runId], env: { KILN_HOME: home } };
      const out = options.processEvery > 0 && i % (options.replayEvery * options.processEvery) === 0
        ? await runCliProcess(request, options.timeoutMs)
        : await cli.run(request, options.timeoutMs);
      problem = badOutcome(out, { allowSuccess: false, mustName: "events.jsonl:" });
    }
    tally(result, c.what, problem);
    i++;
  }
  result.scenario += `: ${result.passed} of ${result.trials} caught`;
  return result;
}
