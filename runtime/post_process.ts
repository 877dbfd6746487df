/**
 * Post-processor chains, as Packer runs them: each chain starts from the
 * build's artifact and feeds each result to the next; intermediate artifacts
 * are discarded unless kept; the original survives if any chain's first
 * post-processor keeps it. Every result is logged, so a resume skips what
 * already ran and finishes any discard that was interrupted.
 */
import type { EventLog } from "./event_log.ts";
import { EventType as E, type NewEvent } from "./events.ts";
import type { BuildState } from "./fold.ts";
import type { Artifact, ResourceLedger, Ui } from "./types.ts";
import type { PreparedPostProcessor } from "../template/types.ts";
import type { PostProcessContext, PostProcessorPlugin } from "./plugin_types.ts";
import { errorMessage } from "./errors.ts";
import { resolve as resolvePath } from "node:path";
import type { ConfigSchema } from "../template/schema.ts";
import { liveResources } from "./fold.ts";
import { adoptedRecord, outputClaim } from "./output_ledger.ts";
import { refreshedRecords, settledClaim } from "./local_path_resource.ts";
import { identityOf } from "./local_identity.ts";

/** What post-processing needs from the build. */
export interface PostProcessParts {
  log: EventLog;
  runId: string;
  /** Packer's PackerRunUUID. */
  runUuid?: string;
  buildName: string;
  /** The name post-processors see ({{.BuildName}}, manifest `name`): HCL2's source name. */
  packerBuildName?: string;
  builderType: string;
  chains: PreparedPostProcessor[][];
  state: () => BuildState;
  force: boolean;
  signal: AbortSignal;
  /** A Ui whose lines read "==> build (type): ...". */
  ui(prefix: string): Ui;
  buildUi: Ui;
  loadPostProcessor(type: string): Promise<PostProcessorPlugin | undefined>;
  render(text: string, data?: Record<string, unknown>): string;
  /** Renders the `build` calls left in a config, right before the component runs. */
  resolve(config: Record<string, unknown>, schema: ConfigSchema): Record<string, unknown>;
  /**
   * Deletes a discarded artifact's file: through the ledger when the run
   * owns it (identity-checked, logged), else as Packer's Artifact.Destroy.
   */
  discardFile(path: string): Promise<void>;
  /**
   * The run's other builds: a file they own that this post-processor rewrote
   * (one manifest shared by every build) is recorded again in their ledgers.
   */
  otherBuilds?(): BuildState[];
  /** After a post-processor failed: `-on-error` (asking the user for "ask"). */
  decide(pp: PreparedPostProcessor, error: unknown): Promise<"cleanup" | "abort" | "retry">;
}

/** The artifacts a build ends with, and the post-processor errors. */
export interface PostProcessOutcome {
  artifacts: Artifact[];
  errors: string[];
  /** With errors: leave what the build made in the ledger (`-on-error=abort`) instead of undoing it. */
  abort: boolean;
}

/** Runs every chain over `original` (none when the builder produced no artifact). */
export async function runPostProcessors(
  parts: PostProcessParts,
  original: Artifact | undefined,
): Promise<PostProcessOutcome> {
  if (!original) return { artifacts: [], errors: [], abort: false };
  const { log, buildName: build } = parts;
  const artifacts: Artifact[] = [];
  const errors: string[] = [];
  let abort = false;
  let keepOriginal = parts.chains.length === 0;
  chains: for (const [c, chain] of parts.chains.entries()) {
    let prior = original;
    for (const [i, pp] of chain.entries()) {
      signalCheck(parts.signal);
      const key = `${c}:${i}`;
      let result = parts.state().postProcessed[key];
      while (!result) {
        try {
          result = await runOne(parts, pp, c, i, prior);
        } catch (err) {
          if (parts.signal.aborted) throw err;
          const decision = await parts.decide(pp, err);
          if (decision === "retry") continue;
          abort ||= decision === "abort";
          errors.push(`Post-processor failed: ${errorMessage(err)}`);
          continue chains;
        }
      }
      if (i === 0) {
        keepOriginal ||= result.keep;
      } else if (result.keep) {
        artifacts.push(prior);
      } else if (!parts.state().discarded.includes(`${c}:${i - 1}`)) {
        await destroyArtifact(parts, prior);
        log.append({ build, type: E.ArtifactDiscarded, data: { chain: c, index: i - 1 } });
      }
      prior = result.artifact;
    }
    artifacts.push(prior);
  }
  if (keepOriginal) {
    artifacts.unshift(original);
  } else if (!parts.state().discarded.includes("builder")) {
    await destroyArtifact(parts, original);
    log.append({ build, type: E.ArtifactDiscarded, data: { source: "builder" } });
  }
  return { artifacts, errors, abort };
}

async function runOne(
  parts: PostProcessParts,
  pp: PreparedPostProcessor,
  chain: number,
  index: number,
  input: Artifact,
): Promise<{ artifact: Artifact; keep: boolean }> {
  const { log, buildName: build } = parts;
  parts.buildUi.say(`Running post-processor: ${pp.type}`);
  log.append({
    build,
    type: E.PostProcessorStarted,
    data: { chain, index, type: pp.type, name: pp.name },
  });
  const pending: NewEvent[] = [];
  const plugin = await parts.loadPostProcessor(pp.type);
  if (!plugin) throw new Error(`unknown post-processor type "${pp.type}"`);
  const ctx: PostProcessContext = {
    runId: parts.runId,
    runUuid: parts.runUuid,
    buildName: parts.packerBuildName ?? build,
    runBuildName: build,
    builderType: parts.builderType,
    ui: parts.ui(`${build} (${pp.type})`),
    signal: parts.signal,
    force: parts.force,
    render: parts.render,
    // Written with the outcome, as for provisioners: no crash between them.
    emit: (type, data = {}) => {
      pending.push({ build, type, data: { chain, index, ...data } });
      return Promise.resolve();
    },
    ledger: postProcessorLedger(log, build, pending),
  };
  const config = parts.resolve(pp.config, plugin.schema);
  const key = `${chain}:${index}`;
  const scratchPaths = new Set(
    (plugin.scratch?.(ctx, config, input) ?? []).map((path) => resolvePath(path)),
  );
  const planned = await claimOutputs(parts, [
    ...(plugin.outputs?.(ctx, config, input) ?? []).map((path) => ({ path, scratch: false })),
    ...[...scratchPaths].map((path) => ({ path, scratch: true })),
  ], key);
  let result;
  try {
    result = await plugin.postProcess(ctx, config, input);
  } catch (err) {
    log.appendAll([...pending, ...settle(parts, planned, scratchPaths, key, false), {
      build,
      type: E.PostProcessorFailed,
      data: { chain, index, type: pp.type, error: errorMessage(err) },
    }]);
    throw err;
  }
  // Packer: an explicit keep_input_artifact wins, unless the post-processor
  // forces keeping because the chain would break without its input.
  let keep = result.keep;
  if (pp.keepInputArtifact !== undefined) {
    if (!(result.keep && !pp.keepInputArtifact && result.forceOverride)) {
      keep = pp.keepInputArtifact;
    }
  }
  const adopted = await newFiles(parts, result.artifact, input, planned, key);
  // Read and logged with no await between (see settle).
  log.appendAll([...pending, ...settle(parts, planned, scratchPaths, key, true), ...adopted, {
    build,
    type: E.ArtifactProduced,
    data: {
      source: "post-processor",
      chain,
      index,
      type: pp.type,
      artifact: result.artifact,
      keep,
    },
  }]);
  return { artifact: result.artifact, keep };
}

/**
 * Write-ahead: the outputs a post-processor will write join the ledger before
 * it runs, the absent ones only (a file that is already there is not this
 * run's, unless an earlier attempt of this run claimed it or another build of
 * the run holds it: one manifest for every build, which that build may yet
 * delete). Deleting one that was never written is a no-op, so a crash at any
 * point leaves no orphan. Returns every planned path, absolute.
 */
async function claimOutputs(
  parts: PostProcessParts,
  paths: { path: string; scratch: boolean }[],
  key: string,
): Promise<Set<string>> {
  const planned = new Set<string>();
  const claims: NewEvent[] = [];
  for (const { path, scratch } of paths) {
    const record = outputClaim(path, key, scratch);
    if (planned.has(record.id)) continue;
    planned.add(record.id);
    if (owned(parts, record.id)) continue;
    if (await identityOf(record.id) && (scratch || !heldByRun(parts, record.id))) continue;
    claims.push({ build: parts.buildName, type: E.ResourceCreated, data: { ...record } });
  }
  if (claims.length > 0) parts.log.appendAll(claims);
  return planned;
}

/**
 * Once the post-processor has ended (done or failed), what it planned is
 * recorded as it is: each output the run owns with the identity of what is
 * there now, anything absent — a scratch name renamed or removed, an output
 * never written — as deleted, and a claimed path holding something not
 * shown to be the run's (or, after success, a scratch name still there) as
 * released. A failed one's leftover scratch file stays the run's to delete.
 * Synchronous, and logged at once by the caller: builds of one process run
 * side by side, and one that read a shared file (the manifest) and logged
 * it later could record what another build has replaced in between. Every other file the run owns whose
 * content this post-processor changed in place gets its identity refreshed.
 */
function settle(
  parts: PostProcessParts,
  planned: Set<string>,
  scratch: Set<string>,
  key: string,
  succeeded: boolean,
): NewEvent[] {
  const build = parts.buildName;
  const events: NewEvent[] = [];
  const live = liveResources(parts.state());
  for (const e of live.filter((e) => planned.has(e.resource.id))) {
    const r = e.resource;
    const now = settledClaim(r);
    if (succeeded && scratch.has(r.id) && "made" in now) {
      // A finished post-processor has renamed or removed its scratch files:
      // one still there is another's (a build holding the shared lock).
      events.push({
        build,
        type: E.ResourceReleased,
        data: { kind: r.kind, id: r.id, reason: "another's scratch file, still in use" },
      });
    } else if ("made" in now) {
      events.push({ build, type: E.ResourceCreated, data: { ...now.made } });
    } else if ("gone" in now) {
      events.push({ build, type: E.ResourceDeleted, data: { kind: r.kind, id: r.id } });
    } else {
      events.push({
        build,
        type: E.ResourceReleased,
        data: { kind: r.kind, id: r.id, reason: now.foreign },
      });
    }
  }
  // A file another build of the run owns (one manifest for every build):
  // rewritten here, it is this build's result too, and both record it as it is now.
  const mine = new Set(live.map((e) => e.resource.id));
  for (const other of parts.otherBuilds?.() ?? []) {
    // Scratch names (a lock) are one invocation's, never shared.
    const theirs = liveResources(other).filter((e) =>
      planned.has(e.resource.id) && !e.resource.data?.scratch && !scratch.has(e.resource.id)
    );
    for (const e of theirs) {
      const now = settledClaim(e.resource);
      if (!("made" in now)) continue;
      events.push({ build: other.name, type: E.ResourceCreated, data: { ...now.made } });
      if (mine.has(e.resource.id)) continue;
      mine.add(e.resource.id);
      const { postProcessor: _theirs, ...data } = now.made.data ?? {};
      events.push({
        build,
        type: E.ResourceCreated,
        data: { ...now.made, data: { ...data, postProcessor: key } },
      });
    }
  }
  const others = live.filter((e) => !planned.has(e.resource.id)).map((e) => e.resource);
  for (const r of refreshedRecords(others)) {
    events.push({ build, type: E.ResourceCreated, data: { ...r } });
  }
  return events;
}

/**
 * Ledger records for files the result names that were not planned: those
 * this build made (provisioner output artifice picked up, say) become part
 * of the result; older files stay the user's.
 */
async function newFiles(
  parts: PostProcessParts,
  artifact: Artifact,
  input: Artifact,
  planned: Set<string>,
  key: string,
): Promise<NewEvent[]> {
  const started = parts.state().startedAt;
  if (!started) return [];
  const since = new Date(started);
  const inputs = new Set(input.files.map((f) => resolvePath(f)));
  const events: NewEvent[] = [];
  for (const file of artifact.files) {
    const path = resolvePath(file);
    if (planned.has(path) || inputs.has(path) || owned(parts, path)) continue;
    const record = await adoptedRecord(path, key, since);
    if (record) {
      events.push({ build: parts.buildName, type: E.ResourceCreated, data: { ...record } });
    }
  }
  return events;
}

/** Whether another build of the run holds `path` live in its ledger. */
function heldByRun(parts: PostProcessParts, path: string): boolean {
  return (parts.otherBuilds?.() ?? []).some((b) =>
    liveResources(b).some((e) => e.resource.id === path)
  );
}

/**
 * The ledger as a post-processor writes it: build-level records; what it
 * starts is on disk before it runs, what ended goes with the outcome (a
 * crash in between only makes the next process find it gone).
 */
function postProcessorLedger(log: EventLog, build: string, pending: NewEvent[]): ResourceLedger {
  const append = (type: string, data: Record<string, unknown>) => {
    log.append({ build, type, data });
    return Promise.resolve();
  };
  return {
    intent: (i) =>
      append(E.ResourceIntent, {
        kind: i.kind,
        token: i.token,
        ...(i.data ? { data: i.data } : {}),
      }),
    created: (r) =>
      append(E.ResourceCreated, {
        kind: r.kind,
        id: r.id,
        ...(r.data ? { data: r.data } : {}),
        ...(r.temporary ? { temporary: true } : {}),
      }),
    deleted: (r) => {
      pending.push({ build, type: E.ResourceDeleted, data: { kind: r.kind, id: r.id } });
      return Promise.resolve();
    },
  };
}

/** Whether a live ledger entry of this build already covers `path`. */
function owned(parts: PostProcessParts, path: string): boolean {
  return liveResources(parts.state()).some((e) => e.resource.id === path);
}

/** Deletes an artifact's local files (Packer's Artifact.Destroy for file artifacts). */
export async function destroyArtifact(
  parts: Pick<PostProcessParts, "discardFile">,
  artifact: Artifact,
): Promise<void> {
  for (const file of artifact.files) await parts.discardFile(resolvePath(file));
}

function signalCheck(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error("build cancelled");
}
