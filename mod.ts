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
import * as run from "./runtime/run_build.ts";
import * as cleanup from "./runtime/cleanup.ts";
import * as template from "./template/prepare.ts";
import type { PreparedTemplate, TemplateInputs } from "./template/types.ts";
import type { ComponentRegistry } from "./template/registry.ts";
import type { Components, PluginRegistry } from "./runtime/plugins.ts";
import { kilnComponents } from "./components.ts";

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
export function runBuild(
  prepared: PreparedTemplate,
  options: BuildOptions = {},
): Promise<run.RunResult> {
  return run.runBuild(prepared, { ...options, components: options.components ?? kilnComponents });
}

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
export function resumeRun(
  runId: string,
  prepared: PreparedTemplate,
  options: ResumeOptions = {},
): Promise<run.RunResult> {
  return run.resumeRun(runId, prepared, {
    ...options,
    components: options.components ?? kilnComponents,
  });
}

/**
 * Options of runBuild: the runtime's, with kiln's own components unless
 * `components` names others.
 *
 * @example
 * ```ts
 * const options: BuildOptions = { output: false, onEvent: (e) => events.push(e) };
 * ```
 */
export type BuildOptions = Omit<run.BuildOptions, "components"> & { components?: Components };
/** Options of resumeRun (kiln's own components unless `components` names others). */
export type ResumeOptions = Omit<run.ResumeOptions, "components"> & { components?: Components };
/** @see runBuild */
export type { RunResult } from "./runtime/run_build.ts";

/**
 * Deletes every resource a run left in its ledger (logged, resumable).
 *
 * @example
 * ```ts
 * const { deleted, failed } = await cleanupRun("20261122T031500Z-ab12cd");
 * ```
 */
export function cleanupRun(
  runId: string,
  options: CleanupOptions = {},
): Promise<cleanup.CleanupResult> {
  return cleanup.cleanupRun(runId, {
    ...options,
    components: options.components ?? kilnComponents,
  });
}

/**
 * Options of cleanupRun (kiln's own components unless `components` names others).
 *
 * @example
 * ```ts
 * const options: CleanupOptions = { output: false };
 * ```
 */
export type CleanupOptions = Omit<cleanup.CleanupOptions, "components"> & {
  components?: PluginRegistry;
};
/** @see cleanupRun */
export type { CleanupResult } from "./runtime/cleanup.ts";

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
export function prepareTemplate(
  file: string,
  inputs: TemplateInputs = {},
  options: PrepareOptions = {},
): Promise<PreparedTemplate> {
  return template.prepareTemplate(file, inputs, {
    ...options,
    registry: options.registry ?? kilnComponents,
  });
}

/** Options of prepareTemplate (kiln's own components unless `registry` names others). */
export type PrepareOptions = Omit<template.PrepareOptions, "registry"> & {
  registry?: ComponentRegistry;
};

/** @see prepareTemplate */
export { parseTemplate } from "./template/mod.ts";

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

/**
 * The components a run uses, handed down to the template layer and the
 * runtime (which never import them): kiln's own, or a caller's variation.
 *
 * @example
 * ```ts
 * const components: Components = {
 *   ...kilnComponents,
 *   builders: { types: () => ["mine"], load: (t) => t === "mine" ? Promise.resolve(mine) : undefined },
 * };
 * await runBuild(await prepareTemplate("t.json", {}, { registry: components }), { components });
 * ```
 */
export { kilnComponents } from "./components.ts";
/** @see kilnComponents */
export type { Components, PluginRegistry } from "./runtime/plugins.ts";
/** @see kilnComponents */
export type {
  ComponentKind,
  ComponentRegistry,
  ComponentSchema,
  ProvisionerSchema,
} from "./template/registry.ts";
/** The contracts components implement. */
export type {
  BuilderPlugin,
  BuildInfo,
  CommonSteps,
  PostProcessContext,
  PostProcessorPlugin,
  PostProcessResult,
  ProvisionContext,
  ProvisionerPlugin,
} from "./runtime/plugin_types.ts";
