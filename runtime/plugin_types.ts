/**
 * The contracts of the components that run on the runtime: builders,
 * provisioners, post-processors, and the common steps the runtime drives
 * itself. They live on the runtime's floor so the runtime never imports a
 * component: the components implement these, and the top of kiln
 * (`components.ts`) hands them down.
 */
import type { ConfigSchema } from "../template/schema.ts";
import type { Communicator } from "../communicators/communicator.ts";
import type {
  Artifact,
  ResourceHandler,
  ResourceLedger,
  SecretStore,
  Step,
  StepContext,
  Ui,
} from "./types.ts";

// Builders.

/** Facts about the build a builder is asked to plan. */
export interface BuildInfo {
  runId: string;
  buildName: string;
  /** Directory of the template (relative paths in config resolve against the CWD, as in Packer). */
  templateDir: string;
}

/** A builder type, e.g. "null", "file", "amazon-instance". */
export interface BuilderPlugin {
  /** The template's `type`. */
  type: string;
  /** Options it accepts (communicator options included if it connects). */
  schema: ConfigSchema;
  /** The ordered steps; the runtime appends nothing and removes nothing. */
  steps(config: Record<string, unknown>, build: BuildInfo): Step[];
  /** The artifact, from the completed steps' outputs (undefined: no artifact, like null). */
  artifact(state: Readonly<Record<string, unknown>>, config: Record<string, unknown>):
    | Artifact
    | undefined;
  /**
   * Every local path the steps may record in the ledger (absolute, or
   * relative to the working directory): a ledger path of the build that is
   * none of these, a post-processor's output or inside the run's temp
   * directory is refused, never deleted.
   */
  localPaths?(config: Record<string, unknown>, build: BuildInfo): string[];
  /** Deleters for every resource kind the steps record. */
  resources: Record<string, ResourceHandler>;
}

// Provisioners.

/** What a provisioner sees while it runs. */
export interface ProvisionContext {
  runId: string;
  buildName: string;
  builderType: string;
  /** The build's connection (type "none" refuses every call). */
  comm: Communicator;
  ui: Ui;
  /** Aborted on cancel or when the provisioner's `timeout` expires. */
  signal: AbortSignal;
  secrets: SecretStore;
  /**
   * Connection and instance data for `build \`X\``: ID, Host, Port, User,
   * Password, ConnType, PackerRunUUID, SSHPublicKey, SSHPrivateKey, ...
   */
  buildData: Record<string, string>;
  /** Renders a `late` field with component data such as `{ Path, Vars }`. */
  render(text: string, data?: Record<string, unknown>): string;
  /** Appends an event (e.g. output summary, transfer) to the run log. */
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Records what the provisioner starts locally (a process group) in the run's ledger. */
  ledger?: ResourceLedger;
}

/** A provisioner type, e.g. "shell-local", "shell", "file", "breakpoint". */
export interface ProvisionerPlugin {
  type: string;
  schema: ConfigSchema;
  /** True when it cannot work with `"communicator": "none"` (validation refuses). */
  needsCommunicator: boolean;
  /** Does the work; throws on failure (the runtime applies max_retries). */
  provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void>;
  /**
   * Glob patterns of the local files it may record in the ledger outside
   * the run's temp directory (ansible's inventory in `inventory_directory`):
   * `cleanup` deletes a provisioner's ledger path only inside these or the
   * run's own directories.
   */
  localPaths?(config: Record<string, unknown>): string[];
}

// Post-processors.

/** What a post-processor sees while it runs. */
export interface PostProcessContext {
  runId: string;
  /** Packer's PackerRunUUID (the manifest's `packer_run_uuid`); absent: use `runId`. */
  runUuid?: string;
  /** The name components see ({{.BuildName}}): in HCL2 the source's name, shared by builds. */
  buildName: string;
  /** The build's name in the run, unique among its builds (absent: `buildName`). */
  runBuildName?: string;
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

/**
 * The common steps' parts the runtime calls directly. The steps sit on the
 * floor above the runtime, so the top hands these down with the registries.
 */
export interface CommonSteps {
  /** Id of the step that opens the build's connection; the steps after it expect `ctx.comm`. */
  connectStepId: string;
  /**
   * Reopens the build's connection in a process that resumes after the
   * connect step ran (in a process that is gone): through that step's own
   * `reconnect` when `steps` has it, else from its logged output.
   */
  reconnect(ctx: StepContext, steps: readonly Step[]): Promise<unknown>;
  /** Id of the step that runs the provisioners: its failure is provisioning's. */
  provisionStepId: string;
  /**
   * Runs the build's error-cleanup-provisioner, if it has one (after a
   * failed provisioning, before the machine is torn down).
   */
  runErrorCleanupProvisioner(ctx: StepContext): Promise<void>;
}
