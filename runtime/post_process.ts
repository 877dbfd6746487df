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
import type { PostProcessorPlugin } from "../post_processors/post_processor.ts";
import type { PostProcessContext } from "../post_processors/post_processor.ts";
import { errorMessage } from "./errors.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { liveResources } from "./fold.ts";
import { madeSince, outputRecord } from "../post_processors/output_ledger.ts";
import { exists } from "./fs.ts";

/** What post-processing needs from the build. */
export interface PostProcessParts {
  log: EventLog;
  runId: string;
  buildName: string;
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
}

/** The artifacts a build ends with, and the post-processor errors. */
export interface PostProcessOutcome {
  artifacts: Artifact[];
  errors: string[];
}

/** Runs every chain over `original` (none when the builder produced no artifact). */
export async function runPostProcessors(
  parts: PostProcessParts,
  original: Artifact | undefined,
): Promise<PostProcessOutcome> {
  if (!original) return { artifacts: [], errors: [] };
  const { log, buildName: build } = parts;
  const artifacts: Artifact[] = [];
  const errors: string[] = [];
  let keepOriginal = parts.chains.length === 0;
  chains: for (const [c, chain] of parts.chains.entries()) {
    let prior = original;
    for (const [i, pp] of chain.entries()) {
      signalCheck(parts.signal);
      const key = `${c}:${i}`;
      let result = parts.state().postProcessed[key];
      if (!result) {
        try {
          result = await runOne(parts, pp, c, i, prior);
        } catch (err) {
          const error = errorMessage(err);
          if (parts.signal.aborted) throw err;
          errors.push(`Post-processor failed: ${error}`);
          continue chains;
        }
      }
      if (i === 0) {
        keepOriginal ||= result.keep;
      } else if (result.keep) {
        artifacts.push(prior);
      } else if (!parts.state().discarded.includes(`${c}:${i - 1}`)) {
        await destroyArtifact(prior);
        log.append({ build, type: E.ArtifactDiscarded, data: { chain: c, index: i - 1 } });
      }
      prior = result.artifact;
    }
    artifacts.push(prior);
  }
  if (keepOriginal) {
    artifacts.unshift(original);
  } else if (!parts.state().discarded.includes("builder")) {
    await destroyArtifact(original);
    log.append({ build, type: E.ArtifactDiscarded, data: { source: "builder" } });
  }
  return { artifacts, errors };
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
    buildName: build,
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
  const planned = await claimOutputs(parts, plugin.outputs?.(ctx, config, input) ?? [], key);
  let result;
  try {
    result = await plugin.postProcess(ctx, config, input);
  } catch (err) {
    log.appendAll([...pending, {
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
  const made = await newFiles(parts, result.artifact, input, planned, key);
  log.appendAll([...pending, ...made, {
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
 * run's, unless an earlier attempt of this run claimed it). Deleting one that
 * was never written is a no-op, so a crash at any point leaves no orphan.
 * Returns every planned path, absolute.
 */
async function claimOutputs(
  parts: PostProcessParts,
  paths: string[],
  key: string,
): Promise<Set<string>> {
  const planned = new Set<string>();
  const claims: NewEvent[] = [];
  for (const path of paths) {
    const record = outputRecord(path, key);
    if (planned.has(record.id)) continue;
    planned.add(record.id);
    if (owned(parts, record.id) || await exists(record.id)) continue;
    claims.push({ build: parts.buildName, type: E.ResourceCreated, data: { ...record } });
  }
  if (claims.length > 0) parts.log.appendAll(claims);
  return planned;
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
  const inputs = new Set(input.files.map((f) => outputRecord(f, key).id));
  const events: NewEvent[] = [];
  for (const file of artifact.files) {
    const record = outputRecord(file, key);
    if (planned.has(record.id) || inputs.has(record.id) || owned(parts, record.id)) continue;
    if (!await madeSince(record.id, since)) continue;
    events.push({ build: parts.buildName, type: E.ResourceCreated, data: { ...record } });
  }
  return events;
}

/** Whether a live ledger entry of this build already covers `path`. */
function owned(parts: PostProcessParts, path: string): boolean {
  return liveResources(parts.state()).some((e) =>
    e.resource.id === path || e.resource.data?.path === path
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

/** Deletes an artifact's local files (Packer's Artifact.Destroy for file artifacts). */
export async function destroyArtifact(artifact: Artifact): Promise<void> {
  for (const file of artifact.files) {
    await Deno.remove(file, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

function signalCheck(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error("build cancelled");
}
