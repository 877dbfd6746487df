/** The post-processor plugin contract. */
import type { ConfigSchema } from "../template/schema.ts";
import type { Artifact, ResourceLedger, Ui } from "../runtime/types.ts";

/** What a post-processor sees while it runs. */
export interface PostProcessContext {
  runId: string;
  buildName: string;
  builderType: string;
  ui: Ui;
  signal: AbortSignal;
  /** `build -force` was given (e.g. manifest truncates, compress overwrites). */
  force: boolean;
  /** Renders a `late` field with data such as `{ BuildName, BuilderType }`. */
  render(text: string, data?: Record<string, unknown>): string;
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Records what the post-processor starts locally (a process group) in the run's ledger. */
  ledger?: ResourceLedger;
}

/** What a post-processor returns. */
export interface PostProcessResult {
  artifact: Artifact;
  /** Whether the input artifact must be kept (overridden by an explicit keep_input_artifact). */
  keep: boolean;
  /** The post-processor insists on its `keep` (Packer's forceOverride). */
  forceOverride?: boolean;
}

/** A post-processor type, e.g. "compress", "checksum", "manifest". */
export interface PostProcessorPlugin {
  type: string;
  schema: ConfigSchema;
  postProcess(
    ctx: PostProcessContext,
    config: Record<string, unknown>,
    input: Artifact,
  ): Promise<PostProcessResult>;
  /**
   * The files `postProcess` will write, known from its config before it
   * runs: the runtime claims those that do not exist yet in the run's ledger
   * first, so a crash mid-write leaves nothing `kiln cleanup` cannot find.
   */
  outputs?(ctx: PostProcessContext, config: Record<string, unknown>, input: Artifact): string[];
  /**
   * Temporary names `postProcess` writes and renames or removes before it
   * ends (a partial archive, a lock): claimed like outputs, so a crash
   * leaves none behind, and struck from the ledger once it has ended.
   */
  scratch?(ctx: PostProcessContext, config: Record<string, unknown>, input: Artifact): string[];
  /**
   * Glob patterns of files made during the build that `postProcess` may
   * name in its artifact without writing them (artifice's `files`): the
   * run adopts those born since the build started, and a ledger path of
   * this post-processor must match one of these or its outputs.
   */
  adopts?(ctx: PostProcessContext, config: Record<string, unknown>): string[];
}
