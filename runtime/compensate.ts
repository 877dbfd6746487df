/**
 * Undoing a build: completed steps' `compensate` and the ledger's resources,
 * in reverse order of the log (a step's compensation comes before the
 * deletion of the resources it created). Every unit is logged, so a crash
 * in the middle resumes where it stopped and never deletes twice.
 */
import { hostName, thisHost } from "./host.ts";
import type { EventLog } from "./event_log.ts";
import { EventType as E } from "./events.ts";
import { type BuildState, liveResources } from "./fold.ts";
import type { CleanupContext, ResourceHandler, Step, StepContext, Ui } from "./types.ts";
import { DeletionRefused, errorMessage } from "./errors.ts";
import { hasUnresolvedRef } from "./secret_refs.ts";
import { runtimeResourceHandlers } from "./output_ledger.ts";
import { coreResourceHandlers } from "./resource_handlers.ts";
import type { OutputScope } from "./output_scope.ts";

/** What compensation needs from the build. */
export interface CompensationParts {
  log: EventLog;
  buildName: string;
  /** Current fold of the build (read after every event). */
  state: () => BuildState;
  /** The builder's steps, when the template is at hand (cleanup may run without). */
  steps: Step[];
  handlers: Record<string, ResourceHandler>;
  stepContext(stepId: string): StepContext;
  cleanupContext: CleanupContext;
  ui: Ui;
  /** `-debug`: waits before a step is undone (Packer's "Pausing before cleanup of step"). */
  beforeStepCleanup?(stepId: string): Promise<void>;
  /**
   * The template check for local paths (output_scope.ts), computed on first
   * need; it throws when no trustworthy template is at hand. Without it a
   * local path is never deleted.
   */
  scope?: () => Promise<OutputScope>;
  /**
   * Another build of the run that holds the same resource live (one manifest
   * written by every build): this build lets go of it instead of deleting it.
   */
  sharedWith?(resource: { kind: string; id: string }): string | undefined;
}

/** Compensates the whole build; returns the problems that remain (empty when all undone). */
export async function compensateBuild(parts: CompensationParts, reason: string): Promise<string[]> {
  const { log, buildName: build } = parts;
  if (!parts.state().compensating) {
    log.append({ build, type: E.CompensationStarted, data: { kind: "build", reason } });
  }
  await reconcileUnsettled(parts);
  const b = parts.state();
  type Unit = { seq: number; run: () => Promise<void> };
  const units: Unit[] = [];
  for (const id of b.completed) {
    const step = parts.steps.find((s) => s.id === id);
    const st = b.steps[id];
    if (!step?.compensate || b.stepsCompensated.includes(id) || st.succeededSeq === undefined) {
      continue;
    }
    units.push({
      seq: st.succeededSeq,
      run: async () => {
        await parts.beforeStepCleanup?.(id);
        log.append({ build, step: id, type: E.CompensationStarted, data: { kind: "step" } });
        try {
          await step.compensate!(parts.stepContext(id), st.output);
          log.append({ build, step: id, type: E.CompensationSucceeded, data: { kind: "step" } });
        } catch (err) {
          const error = errorMessage(err);
          log.append({
            build,
            step: id,
            type: E.CompensationFailed,
            data: { kind: "step", error },
          });
          throw new Error(`undoing step ${id}: ${error}`);
        }
      },
    });
  }
  for (const entry of liveResources(b)) {
    units.push({
      seq: entry.createdSeq,
      run: async () => void await deleteResource(parts, entry.resource, entry.step),
    });
  }
  units.sort((a, b) => b.seq - a.seq);
  const problems: string[] = [];
  for (const unit of units) {
    try {
      await unit.run();
    } catch (err) {
      problems.push(errorMessage(err));
    }
  }
  if (problems.length === 0) {
    log.append({ build, type: E.CompensationSucceeded, data: { kind: "build" } });
  } else {
    parts.ui.error(`Cleanup left ${problems.length} problem(s); run \`kiln cleanup ${log.runId}\``);
    log.append({
      build,
      type: E.CompensationFailed,
      data: { kind: "build", error: problems.join("; ") },
    });
  }
  return problems;
}

/**
 * A step that failed or was cancelled after logging an intent may still have
 * created the resource: the call took effect but its answer was lost, or a
 * cancel aborted the request after the cloud had acted on it. Its reconcile
 * looks for it (by token/tag), so it joins the ledger and is undone with the
 * rest instead of leaking. An intent counts as settled once the step has a
 * live resource of that kind.
 */
async function reconcileUnsettled(parts: CompensationParts): Promise<void> {
  const b = parts.state();
  for (const st of Object.values(b.steps)) {
    if (st.status === "succeeded" || st.intents.length === 0) continue;
    const step = parts.steps.find((s) => s.id === st.id);
    if (!step?.reconcile) continue;
    const unsettled = st.intents.filter((i) =>
      !b.resources.some((e) => e.step === st.id && e.resource.kind === i.kind && !e.deletedAt)
    );
    if (unsettled.length === 0) continue;
    try {
      await step.reconcile(parts.stepContext(st.id), unsettled);
    } catch (err) {
      parts.ui.error(`could not look for what step ${st.id} created: ${errorMessage(err)}`);
    }
  }
}

/**
 * How a deletion ended: done, refused (released from the ledger, left
 * alone), or kept for another build of the run that holds it too.
 */
export type DeletionOutcome = { deleted: true } | { refused: string } | { sharedWith: string };

/**
 * Deletes one ledger resource through its handler and logs the deletion. A
 * local path must first pass the template check; a refusal (outside the
 * template's outputs, not provably the run's) is logged as ResourceReleased
 * and reported, and the thing is left alone. Throws when the deletion failed
 * (the resource stays in the ledger for a retry).
 */
export async function deleteResource(
  parts: Pick<
    CompensationParts,
    "log" | "buildName" | "handlers" | "cleanupContext" | "scope" | "sharedWith"
  >,
  resource: {
    kind: string;
    id: string;
    region?: string;
    data?: Record<string, unknown>;
    host?: string;
  },
  step: string | null,
): Promise<DeletionOutcome> {
  const { log, buildName: build } = parts;
  // Checked and logged with no await between: two builds undoing at once
  // cannot both let go of a file they share.
  const other = parts.sharedWith?.(resource);
  if (other !== undefined) {
    const reason = `also a result of build ${other}`;
    parts.cleanupContext.ui.say(`${resource.id}: ${reason}: kept`);
    log.append({
      build,
      step,
      type: E.ResourceReleased,
      data: { kind: resource.kind, id: resource.id, reason },
    });
    return { sharedWith: other };
  }
  const handler = coreResourceHandlers[resource.kind] ?? parts.handlers[resource.kind] ??
    runtimeResourceHandlers[resource.kind];
  try {
    if (!handler) throw new Error(`no handler knows how to delete a "${resource.kind}"`);
    if (hasUnresolvedRef(resource)) {
      throw new DeletionRefused(
        "its record refers to a secret this run's secrets directory no longer holds",
      );
    }
    const path = handler.localPath?.(resource);
    if ((handler.local || path !== undefined) && resource.host && resource.host !== thisHost()) {
      throw new DeletionRefused(
        `made on ${hostName(resource.host)} (${resource.host}), not on this machine ` +
          `(${thisHost()}); only kiln on that machine can remove it`,
      );
    }
    if (path !== undefined) {
      if (!parts.scope) {
        throw new Error(`cannot confirm ${path} is an output of the run's template: no template`);
      }
      const problem = (await parts.scope()).problem(path);
      if (problem) throw new DeletionRefused(problem);
    }
    await handler.delete(parts.cleanupContext, resource).catch((err) => {
      // "Not found" is what deleted looks like after a crash mid-deletion.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  } catch (err) {
    const error = errorMessage(err);
    if (err instanceof DeletionRefused) {
      parts.cleanupContext.ui.say(`${resource.id}: ${error}: left alone`);
      log.append({
        build,
        step,
        type: E.ResourceReleased,
        data: { kind: resource.kind, id: resource.id, reason: error },
      });
      return { refused: error };
    }
    log.append({
      build,
      step,
      type: E.CompensationFailed,
      data: { kind: "resource", resourceKind: resource.kind, id: resource.id, error },
    });
    throw new Error(`deleting ${resource.kind} ${resource.id}: ${error}`);
  }
  log.append({
    build,
    step,
    type: E.ResourceDeleted,
    data: { kind: resource.kind, id: resource.id },
  });
  return { deleted: true };
}

/** After success: deletes the build's temporary resources (Packer's step Cleanup). */
export async function deleteTemporaryResources(parts: CompensationParts): Promise<string[]> {
  const problems: string[] = [];
  const temporary = liveResources(parts.state()).filter((e) => e.resource.temporary);
  for (const entry of temporary.reverse()) {
    try {
      await deleteResource(parts, entry.resource, entry.step);
    } catch (err) {
      problems.push(errorMessage(err));
      parts.ui.error(errorMessage(err));
    }
  }
  return problems;
}
