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
import type { Artifact, Ui } from "./types.ts";
import type { PreparedPostProcessor } from "../template/types.ts";
import type { PostProcessorPlugin } from "../post_processors/post_processor.ts";
import type { PostProcessContext } from "../post_processors/post_processor.ts";
import { errorMessage } from "./errors.ts";
import type { ConfigSchema } from "../template/schema.ts";

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
  };
  let result;
  try {
    result = await plugin.postProcess(ctx, parts.resolve(pp.config, plugin.schema), input);
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
  log.appendAll([...pending, {
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
