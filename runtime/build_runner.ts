/**
 * Drives one build of a run: its builder's steps through the XState machine,
 * then the builder's artifact and the post-processor chains. Everything it
 * decides comes from the fold of the log, so the same code runs a fresh
 * build, resumes an interrupted one and redrives an aborted one.
 */
import type { EventLog } from "./event_log.ts";
import { EventType as E } from "./events.ts";
import {
  buildOf,
  type BuildState,
  completedOutputs,
  liveResources,
  type RunState,
} from "./fold.ts";
import type { FileSecretStore } from "./secret_store.ts";
import type {
  Artifact,
  BuildRuntime,
  CleanupContext,
  OnErrorMode,
  Step,
  StepContext,
} from "./types.ts";
import type { PreparedBuild, PreparedTemplate } from "../template/types.ts";
import type { Communicator } from "../communicators/communicator.ts";
import type { PluginSource } from "./plugins.ts";
import type { CommonSteps } from "./plugin_types.ts";
import { type MachineOutcome, startBuildMachine } from "./machine.ts";
import { makeStepContext } from "./step_context.ts";
import { logUi } from "./ui.ts";
import { compensateBuild, type CompensationParts, deleteTemporaryResources } from "./compensate.ts";
import { runPostProcessors } from "./post_process.ts";
import { errorMessage, ProvisioningError } from "./errors.ts";
import { templateApi } from "./template_bridge.ts";
import { decideAfterPostProcessor, decideOnError } from "./on_error.ts";
import { deleteResource } from "./compensate.ts";
import { outputScope } from "./output_scope.ts";
import { refreshedRecords } from "./local_path_resource.ts";
import { dirname } from "node:path";
import { startingPoint } from "./start_point.ts";
import { endBuild } from "./build_end.ts";
import type { DebugPause } from "./debug_pause.ts";

/** What every build of a run shares. */
export interface RunContext {
  runId: string;
  /** Packer's PackerRunUUID (see run_uuid.ts). */
  runUuid: string;
  log: EventLog;
  state: RunState;
  secrets: FileSecretStore;
  prepared: PreparedTemplate;
  onError: OnErrorMode;
  force: boolean;
  ask?: (question: string) => Promise<string>;
  plugins: PluginSource;
  /** The connect and provision steps' parts the build drives itself. */
  steps: CommonSteps;
  /**
   * Set when resuming a run whose driving process died: builds that ended
   * in that drive (after `driveSeq`) stay as they ended; only builds from
   * an earlier, finished drive are redriven.
   */
  interrupted?: { driveSeq: number };
  /** `-debug`: pause after every step and before undoing one (see debug_pause.ts). */
  debugPause?: DebugPause;
}

/** How a build ended. */
export interface BuildOutcome {
  name: string;
  status: "succeeded" | "failed" | "cancelled";
  artifacts: Artifact[];
  error?: string;
  /** Resources were left in the ledger on purpose (`-on-error=abort`). */
  aborted?: boolean;
}

/** A build in progress; `cancel` starts compensation. */
export interface RunningBuild {
  done: Promise<BuildOutcome>;
  cancel(): void;
}

/** Starts (or resumes) `build` within the run. */
export function startBuild(run: RunContext, build: PreparedBuild): RunningBuild {
  let cancelRequested = false;
  let machineCancel: (() => void) | undefined;
  // Aborted on cancel: stops post-processing, which runs after the machine.
  const cancelled = new AbortController();
  const done = drive(run, build, cancelled.signal, (cancel) => {
    machineCancel = cancel;
    if (cancelRequested) cancel();
  }).catch((err): BuildOutcome => {
    const error = errorMessage(err);
    const ui = logUi(run.log, build.name);
    ui.error(`Build '${build.name}' errored: ${error}`);
    run.log.append({ build: build.name, type: E.BuildFinished, data: { status: "failed", error } });
    return { name: build.name, status: "failed", artifacts: [], error };
  });
  return {
    done,
    cancel: () => {
      cancelRequested = true;
      cancelled.abort(new Error("build cancelled"));
      machineCancel?.();
    },
  };
}

async function drive(
  run: RunContext,
  build: PreparedBuild,
  cancelSignal: AbortSignal,
  onMachine: (cancel: () => void) => void,
): Promise<BuildOutcome> {
  const { log, runId } = run;
  const name = build.name;
  const bs = (): BuildState => buildOf(run.state, name);
  const before = bs();
  if (before.status === "succeeded") {
    return { name, status: "succeeded", artifacts: before.artifacts };
  }
  if (
    (before.status === "failed" || before.status === "cancelled") && run.interrupted &&
    (before.finishedSeq ?? 0) > run.interrupted.driveSeq
  ) {
    // It ended in the drive that crashed: finishing that drive must not redo it.
    return { name, status: before.status, artifacts: [], error: before.error };
  }
  if (build.unavailable !== undefined) {
    // A builder kiln lacks fails its build alone, as a Packer builder that errors.
    const again = before.status !== "pending" ? { restart: true } : {};
    log.append({ build: name, type: E.BuildStarted, data: { type: build.type, ...again } });
    return endBuild(log, name, performance.now(), { status: "failed", error: build.unavailable });
  }
  const plugin = await run.plugins.builder(build.type);
  if (!plugin) throw new Error(`unknown builder type "${build.type}"`);
  const templateDir = run.prepared.template.dir;
  const steps: Step[] = plugin.steps(build.config, { runId, buildName: name, templateDir });
  const ui = logUi(log, name, name);
  const started = performance.now();

  let comm: Communicator | undefined;
  const live = new Map<string, { close(): Promise<void> }>();
  const runtime: BuildRuntime = {
    build,
    variables: run.prepared.variables,
    templateDir,
    runDir: dirname(log.file),
    force: run.force,
    onError: run.onError,
    provisionersDone: () => bs().provisionersDone,
    errorCleanupDone: () => bs().errorCleanupDone,
    // Connection facts (Host, User, ...) appear when the connect step opens
    // one; until then `{{build "Host"}}` renders `<no value>`, as in Packer.
    buildData: {
      ID: "",
      PackerRunUUID: run.runUuid,
      // Packer's placeholders for builders that serve no HTTP; qemu's http step sets the real ones.
      PackerHTTPAddr: "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER",
      PackerHTTPIP: "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER",
      PackerHTTPPort: "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER",
    },
    live,
    setComm: (c) => comm = c,
    ask: run.ask,
    loadProvisioner: run.plugins.provisioner,
  };
  // Rendering and build-data resolution must see the same variables and build data.
  const renderContext = () => ({
    variables: run.prepared.variables,
    templateDir,
    buildName: build.sourceName ?? name,
    buildType: build.type,
    buildData: runtime.buildData,
  });
  const render = (text: string, data?: Record<string, unknown>) =>
    templateApi().renderString(text, { ...renderContext(), data });
  // Compensation must finish even after a cancel: it gets its own signal.
  const cleanupAbort = new AbortController();
  const contextFor = (stepId: string, signal: AbortSignal): StepContext =>
    makeStepContext({
      log,
      runId,
      buildName: name,
      builderType: build.type,
      config: build.config,
      state: () => completedOutputs(bs()),
      ui,
      signal,
      secrets: run.secrets,
      render,
      runtime,
      comm: () => comm,
    }, stepId);
  const cleanupContext: CleanupContext = {
    runId,
    buildName: name,
    config: build.config,
    ui,
    signal: cleanupAbort.signal,
  };
  const compensation: CompensationParts = {
    log,
    buildName: name,
    state: bs,
    steps,
    handlers: plugin.resources,
    stepContext: (id) => contextFor(id, cleanupAbort.signal),
    cleanupContext,
    ui,
    // -debug: a cancelled build is undone without waiting (cleanupAbort is not the cancel).
    beforeStepCleanup: run.debugPause &&
      ((id) => run.debugPause!(name, "before cleanup of", id, cancelSignal)),
    // Computed afresh: post-processors that ran since add outputs to it.
    scope: () =>
      outputScope({
        prepared: run.prepared,
        build,
        state: bs(),
        plugins: run.plugins,
        runId,
        cwd: run.state.cwd ?? Deno.cwd(),
        runDir: dirname(log.file),
      }),
  };
  compensation.sharedWith = (r) =>
    Object.values(run.state.builds).find((b) =>
      b.name !== name &&
      liveResources(b).some((e) => e.resource.kind === r.kind && e.resource.id === r.id)
    )?.name;
  // Files the run owns that this process's own work changed in place keep
  // an identity that matches them (see refreshedRecords).
  const refresh = (step: string | null) => {
    const records = refreshedRecords(liveResources(bs()).map((e) => e.resource));
    for (const r of records) {
      log.append({ build: name, step, type: E.ResourceCreated, data: { ...r } });
    }
  };

  const start = startingPoint(log, bs(), steps, build.type);
  let failure: unknown;
  let decided: "cleanup" | "abort" | "retry" | undefined;
  const machine = startBuildMachine(steps.map((s) => s.id), start, {
    runStep: async (index, signal) => {
      const step = steps[index];
      const st = bs().steps[step.id];
      const ctx = contextFor(step.id, signal);
      const interrupted = st?.status === "running";
      log.append({
        build: name,
        step: step.id,
        type: E.StepStarted,
        data: interrupted ? { resumed: true } : {},
      });
      try {
        // From a step that stops the machine on, there is nothing to reconnect to.
        const offline = steps.slice(0, index + 1).some((s) => s.endsConnection);
        if (!comm && !offline && bs().completed.includes(run.steps.connectStepId)) {
          // Resumed after the connect step: steps that follow expect ctx.comm.
          // Inside the step, so a connection that cannot be reopened fails it with the reason.
          await run.steps.reconnect(ctx, steps);
        }
        if (interrupted && step.reconcile && st.intents.length > 0) {
          const out = await step.reconcile(ctx, st.intents);
          if (out !== undefined) {
            log.append({
              build: name,
              step: step.id,
              type: E.StepSucceeded,
              data: { output: out as unknown, reconciled: true },
            });
            await run.debugPause?.(name, "after run of", step.id, signal);
            return;
          }
        }
        const output = await step.run(ctx);
        refresh(step.id);
        log.append({
          build: name,
          step: step.id,
          type: E.StepSucceeded,
          data: { output: output === undefined ? null : output as unknown },
        });
        await run.debugPause?.(name, "after run of", step.id, signal);
      } catch (err) {
        failure = err;
        refresh(step.id);
        log.append({
          build: name,
          step: step.id,
          type: E.StepFailed,
          data: {
            error: errorMessage(err),
            ...(err instanceof ProvisioningError ? { index: err.index } : {}),
          },
        });
        throw err;
      }
    },
    decide: async (index, error) => {
      decided = await decideOnError(
        run,
        steps[index],
        error,
        contextFor(steps[index].id, cleanupAbort.signal),
        ui,
      );
      return decided;
    },
    compensate: async (reason) => {
      await compensateBuild(compensation, reason);
    },
    finish: async () => {
      await deleteTemporaryResources(compensation);
    },
  });
  onMachine(machine.cancel);
  const outcome: MachineOutcome = await machine.done;
  await closeLive(live);

  if (outcome === "succeeded") {
    let artifact = bs().artifact;
    if (!artifact) {
      artifact = plugin.artifact(completedOutputs(bs()), build.config);
      if (artifact) {
        log.append({
          build: name,
          type: E.ArtifactProduced,
          data: { source: "builder", artifact },
        });
      }
    }
    let pp;
    try {
      pp = await runPostProcessors({
        log,
        runId,
        runUuid: run.runUuid,
        buildName: name,
        packerBuildName: build.sourceName ?? name,
        builderType: build.type,
        chains: build.postProcessors,
        state: bs,
        force: run.force,
        signal: cancelSignal,
        ui: (prefix) => logUi(log, name, prefix),
        buildUi: ui,
        loadPostProcessor: run.plugins.postProcessor,
        render,
        resolve: (config, schema) =>
          templateApi().resolveBuildData(config, schema, renderContext()),
        discardFile: async (path) => {
          const entry = liveResources(bs()).find((e) => e.resource.id === path);
          if (entry) {
            await deleteResource(compensation, entry.resource, entry.step);
            return;
          }
          await Deno.remove(path, { recursive: true }).catch((err) => {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
          });
        },
        decide: (pp, error) => decideAfterPostProcessor(run, pp.type, error, ui),
        otherBuilds: () => Object.values(run.state.builds).filter((b) => b.name !== name),
      }, artifact);
    } catch (err) {
      if (cancelSignal.aborted) {
        // Ctrl-C during post-processing undoes the build, as during provisioning.
        await compensateBuild(compensation, "cancelled");
        return endBuild(log, name, started, { status: "cancelled", error: "Build was cancelled." });
      }
      pp = { artifacts: [], errors: [errorMessage(err)], abort: run.onError === "abort" };
    }
    if (pp.errors.length > 0) {
      const error = pp.errors.join("\n");
      if (pp.abort) {
        leaving(bs(), run, ui);
        return endBuild(log, name, started, {
          status: "failed",
          error,
          aborted: true,
          artifacts: pp.artifacts,
        });
      }
      await compensateBuild(compensation, "failed");
      return endBuild(log, name, started, { status: "failed", error });
    }
    return endBuild(log, name, started, { status: "succeeded", artifacts: pp.artifacts });
  }
  if (outcome === "cancelled") {
    return endBuild(log, name, started, { status: "cancelled", error: "Build was cancelled." });
  }
  const error = failure === undefined ? "build failed" : errorMessage(failure);
  const aborted = outcome === "aborted";
  if (aborted) leaving(bs(), run, ui);
  return endBuild(log, name, started, { status: "failed", error, aborted });
}

/** `-on-error=abort`: says what stays for debugging and how to get rid of it. */
function leaving(b: BuildState, run: RunContext, ui: ReturnType<typeof logUi>): void {
  const left = liveResources(b).length;
  if (left === 0) return;
  ui.say(
    `Leaving ${left} resource(s) for debugging (-on-error=${run.onError}); ` +
      `\`kiln cleanup ${run.runId}\` deletes them, \`kiln build --resume ${run.runId}\` retries`,
  );
}

async function closeLive(live: Map<string, { close(): Promise<void> }>): Promise<void> {
  for (const value of live.values()) await value.close().catch(() => {});
  live.clear();
}
