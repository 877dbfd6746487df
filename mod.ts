/**
 * kiln as a library: prepare a Packer template, run its builds on the
 * event-sourced runtime, resume or clean up a run, and read its log.
 *
 * @example
 * ```ts
 * import { prepareTemplate, runBuild } from "./mod.ts";
 * const prepared = await prepareTemplate("examples/hello.json", { vars: [] });
 * const result = await runBuild(prepared, {
 *   onEvent: (e) => { if (e.type === "ArtifactProduced") console.log(e.data); },
 * });
 * console.log(result.runId, result.status);
 * ```
 * @module
 */

/**
 * Runs every build of a prepared template in a new run (one hash-chained log,
 * builds in parallel); resolves when all builds ended.
 *
 * @example
 * ```ts
 * const result = await runBuild(prepared, { parallelBuilds: 2, onError: "abort" });
 * if (result.status !== "succeeded") console.log(`kiln cleanup ${result.runId}`);
 * ```
 */
export { runBuild } from "./runtime/run_build.ts";

/**
 * Resumes a run from its log: completed steps and provisioners are not run
 * again; refuses a changed template unless `forceResume`.
 *
 * @example
 * ```ts
 * const prepared = await prepareTemplate("template.json");
 * await resumeRun("20261122T031500Z-ab12cd", prepared);
 * ```
 */
export { resumeRun } from "./runtime/run_build.ts";

/**
 * Options and results of runBuild/resumeRun.
 *
 * @example
 * ```ts
 * const options: BuildOptions = { output: false, onEvent: (e) => events.push(e) };
 * ```
 */
export type { BuildOptions, ResumeOptions, RunResult } from "./runtime/run_build.ts";

/**
 * Deletes every resource a run left in its ledger (logged, resumable).
 *
 * @example
 * ```ts
 * const { deleted, failed } = await cleanupRun("20261122T031500Z-ab12cd");
 * ```
 */
export { cleanupRun } from "./runtime/cleanup.ts";

/**
 * Options and result of cleanupRun.
 *
 * @example
 * ```ts
 * const options: CleanupOptions = { output: false };
 * ```
 */
export type { CleanupOptions, CleanupResult } from "./runtime/cleanup.ts";

/**
 * Reads and verifies a run log file (throws EventLogError naming the line on
 * tampering; a torn last line is reported in `torn`).
 *
 * @example
 * ```ts
 * const { records, torn } = await readRunLog(".kiln/runs/20261122T031500Z-ab12cd/events.jsonl");
 * ```
 */
export { EventLogError, readEventLog as readRunLog } from "./runtime/log_reader.ts";

/**
 * The append-only log writer (one per run; used by the driver).
 *
 * @example
 * ```ts
 * const { log } = await EventLog.open(runId, ".kiln", new Masker());
 * const stop = log.subscribe((record) => console.log(record.type));
 * ```
 */
export { EventLog } from "./runtime/event_log.ts";

/**
 * Masks registered secrets as `<sensitive>`.
 *
 * @example
 * ```ts
 * new Masker(["hunter2"]).maskText("pw=hunter2"); // "pw=<sensitive>"
 * ```
 */
export { Masker } from "./runtime/masker.ts";

/**
 * One log record and the event type names.
 *
 * @example
 * ```ts
 * const isResource = (e: EventRecord) => e.type === EventType.ResourceCreated;
 * ```
 */
export { EventType } from "./runtime/events.ts";
/** @see EventType */
export type { EventRecord } from "./runtime/events.ts";

/**
 * Folds a log into run state (builds, steps, ledger, artifacts).
 *
 * @example
 * ```ts
 * const state = foldRun((await readRunLog(file)).records);
 * console.log(state.builds["null"].status);
 * ```
 */
export { foldRun, liveResources } from "./runtime/fold.ts";
/** @see foldRun */
export type { BuildState, LedgerEntry, RunState, StepState } from "./runtime/fold.ts";

/**
 * Lists runs, or loads one (verified log + fold).
 *
 * @example
 * ```ts
 * for (const r of await listRuns()) console.log(r.id, r.status);
 * ```
 */
export { listRuns, loadRun } from "./runtime/run_store.ts";

/**
 * Re-renders a run's output from its log and verifies the chain.
 *
 * @example
 * ```ts
 * const { lines, verified, broken } = await replayRun("20261122T031500Z-ab12cd");
 * ```
 */
export { replayRun } from "./runtime/replay.ts";

/**
 * Template loading, from the template layer.
 *
 * @example
 * ```ts
 * const prepared = await prepareTemplate("t.json", { vars: [{ kind: "var", name: "x", value: "1" }] });
 * const parsed = await parseTemplate("t.json");
 * ```
 */
export { parseTemplate, prepareTemplate } from "./template/mod.ts";

/**
 * The contracts steps, builders and handlers are written against.
 *
 * @example
 * ```ts
 * const step: Step<{ path: string }> = { id: "my.step", run: async () => ({ path: "/tmp/x" }) };
 * ```
 */
export type {
  Artifact,
  BuildRuntime,
  OnErrorMode,
  ResourceHandler,
  ResourceRecord,
  Step,
  StepContext,
  Ui,
} from "./runtime/types.ts";
/** @see prepareTemplate */
export type {
  PreparedBuild,
  PreparedTemplate,
  Template,
  TemplateInputs,
} from "./template/types.ts";
/** @see runBuild */
export type { PluginOverrides } from "./runtime/plugins.ts";
