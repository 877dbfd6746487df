/**
 * The contracts between the runtime and the components that run on it
 * (builders' steps, provisioners, post-processors). Everything a step returns
 * or records is JSON: the event log must be able to restore it after a crash.
 */
import type { PreparedBuild } from "../template/types.ts";

/** Output channel for one build; lines are prefixed with the build name. */
export interface Ui {
  /** A headline ("==> null: Running local shell script"). */
  say(message: string): void;
  /** A detail line ("    null: hello"). */
  message(message: string): void;
  /** An error line. */
  error(message: string): void;
  /**
   * The run's secrets, for code that cuts or summarises output before it
   * reaches this Ui (a cut must not split a secret the log could then no
   * longer recognise).
   */
  guard?: import("./masker.ts").OutputGuard;
}

/** What a build produces and post-processors transform. JSON-serialisable. */
export interface Artifact {
  /** Identifies the producer, e.g. "packer.file", "mitchellh.amazonebs". */
  builderId: string;
  /** e.g. "us-east-1:ami-123" or a file path. */
  id: string;
  /** Local files that make up the artifact. */
  files: string[];
  /** Human-readable summary (Packer's `String()`). */
  description: string;
  /** Extra data (e.g. AMI ids per region) for later post-processors. */
  state?: Record<string, unknown>;
}

/** A cloud or local resource a step created and that must be undone on failure. */
export interface ResourceRecord {
  /** Handler key, e.g. "aws.instance", "aws.key_pair", "file". */
  kind: string;
  /** Provider id (instance id, key name, path). */
  id: string;
  region?: string;
  /** Whatever the handler needs to delete it later, without the template. No secrets. */
  data?: Record<string, unknown>;
  /**
   * Deleted when the build ends however it ends, like Packer's step Cleanup
   * (temporary key pairs, security groups, the build instance). Without it a
   * resource is part of the result (an AMI, an output file) and is deleted
   * only when the build fails or is cancelled.
   */
  temporary?: boolean;
  /**
   * The machine the run was driven on when this was made (set by the fold
   * from the drive's RunStarted/RunResumed/CleanupStarted; see host.ts).
   */
  host?: string;
}

/** Deletes one kind of resource. Must be idempotent: "not found" is success. */
export interface ResourceHandler {
  /**
   * Throws DeletionRefused when the resource is not provably this run's: it
   * is then released from the ledger and reported, never retried.
   */
  delete(ctx: CleanupContext, resource: ResourceRecord): Promise<void>;
  /**
   * The local path the resource is, for handlers of files and directories:
   * the runtime refuses the deletion unless the path is one the run's
   * template could have produced (see output_scope.ts).
   */
  localPath?(resource: ResourceRecord): string;
  /**
   * The resource lives on the machine that made it (a process, a VM): only
   * kiln on that machine may delete it. Handlers with `localPath` are local too.
   */
  local?: boolean;
}

/** What a resource handler gets when deleting (also used by `kiln cleanup`). */
export interface CleanupContext {
  runId: string;
  buildName: string;
  /** The build's decoded config when the template is available (credentials, endpoints). */
  config: Record<string, unknown>;
  ui: Ui;
  signal: AbortSignal;
}

/** A side effect about to happen, logged (and fsynced) before the API call. */
export interface ResourceIntentRecord {
  kind: string;
  /** Idempotency token / deterministic name / tag value used to find it again. */
  token: string;
  data?: Record<string, unknown>;
}

/**
 * The run's ledger as a provisioner or post-processor sees it. Intents and
 * creations are on disk (fsynced) when the call returns, not batched with
 * the component's outcome: a resume must know what is running even if kiln
 * dies mid-component. A deletion is written with the outcome instead, so
 * finishing adds no crash point between the work and its success; a crash
 * before it only makes the next process find the resource gone.
 */
export interface ResourceLedger {
  /** Write-ahead: what is about to be created. */
  intent(intent: ResourceIntentRecord): Promise<void>;
  /** It exists: it joins the ledger. */
  created(resource: ResourceRecord): Promise<void>;
  /** It is gone: it leaves the ledger (with the component's outcome). */
  deleted(resource: Pick<ResourceRecord, "kind" | "id">): Promise<void>;
}

/** Durable per-run secret storage (0600 files under runs/<id>/secrets/). */
export interface SecretStore {
  /** Stores a secret, registers it for masking, returns the file path. */
  put(name: string, value: string | Uint8Array): Promise<string>;
  /** Reads a secret stored by this run (e.g. after resume), or undefined. */
  get(name: string): Promise<string | undefined>;
  /** Registers a value for masking without storing it. */
  mask(value: string): void;
  /** Path of a stored secret's file. */
  path(name: string): string;
}

/** What a step sees while it runs. */
export interface StepContext {
  runId: string;
  buildName: string;
  builderType: string;
  /** The build's decoded builder config. */
  config: Record<string, unknown>;
  /** Outputs of the steps that completed before this one, by step id. */
  state: Readonly<Record<string, unknown>>;
  ui: Ui;
  /** Aborted on cancel (SIGINT/SIGTERM) or timeout. */
  signal: AbortSignal;
  secrets: SecretStore;
  /** Appends an event of this build/step to the run log. */
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Appends several events in one atomic write (no crash can fall between them). */
  emitAll?(events: { type: string; data?: Record<string, unknown> }[]): Promise<void>;
  /** Write-ahead: log (fsync) what is about to be created, before the call that creates it. */
  intent(intent: ResourceIntentRecord): Promise<void>;
  /** Log (fsync) a created resource; it joins the cleanup ledger. */
  created(resource: ResourceRecord): Promise<void>;
  /** Log (fsync) a resource as deleted; it leaves the cleanup ledger. */
  deleted(resource: Pick<ResourceRecord, "kind" | "id">): Promise<void>;
  /** Template functions for this build (user vars, build_name, ...): renders `text` with `data`. */
  render(text: string, data?: Record<string, unknown>): string;
  /**
   * The build's connection, once the connect step has run (reopened on
   * resume). Steps after provisioning (e.g. bundling) run commands through it.
   */
  comm?: import("../communicators/communicator.ts").Communicator;
  /**
   * What the common steps (connect, provision) need beyond the builder's
   * config; set when the step runs inside kiln's build driver.
   */
  runtime?: BuildRuntime;
}

/** What to do when a step fails (`-on-error`). */
export type OnErrorMode = "cleanup" | "abort" | "ask" | "run-cleanup-provisioner";

/** Build-wide facilities shared by the steps of one build in one process. */
export interface BuildRuntime {
  /** The build as prepared by the template layer (provisioners, post-processors). */
  build: PreparedBuild;
  /** Final user variables (for rendering provisioner configs right before they run). */
  variables: Record<string, string>;
  templateDir: string;
  /**
   * The run's own directory (`runs/<id>`): a builder keeps what must
   * outlive one kiln process but is no output there (a VM's control socket).
   */
  runDir?: string;
  /** `-force`: outputs that exist are replaced rather than refused. */
  force?: boolean;
  onError: OnErrorMode;
  /** Indices of provisioners that already succeeded in this run (from the log). */
  provisionersDone(): readonly number[];
  /** Whether the error-cleanup-provisioner already ran in this attempt (from the log). */
  errorCleanupDone?(): boolean;
  /** Connection facts for the `build` template function, filled by the connect step. */
  buildData: Record<string, string>;
  /** Live objects of this process, never logged; closed when the build ends. */
  live: Map<string, { close(): Promise<void> }>;
  /** Sets the build's communicator (StepContext.comm for the steps that follow). */
  setComm(comm: import("../communicators/communicator.ts").Communicator | undefined): void;
  /** Asks the user a question and returns the answer; undefined without a terminal. */
  ask?(question: string): Promise<string>;
  /** Finds a provisioner by type (the registry the run was given, overrides first). */
  loadProvisioner(type: string): Promise<import("./plugin_types.ts").ProvisionerPlugin | undefined>;
}

/** One unit of a builder: Packer's multistep Run + Cleanup, made durable. */
export interface Step<Out = unknown> {
  /** Stable id, e.g. "aws.key_pair"; used as the state key and in the log. */
  id: string;
  /** Does the work. Output must be JSON and free of secrets (use ctx.secrets). */
  run(ctx: StepContext): Promise<Out>;
  /** Undoes what `run` did that is not a ledger resource (resources are deleted by handlers). */
  compensate?(ctx: StepContext, out: Out): Promise<void>;
  /**
   * After a crash inside `run`: find what the interrupted run created (by
   * token/tag) and return the output it would have produced, or undefined to
   * run again.
   */
  reconcile?(ctx: StepContext, intents: ResourceIntentRecord[]): Promise<Out | undefined>;
  /**
   * The machine cannot be reached once this step begins (it stops the
   * instance): a resumed run reopens no connection for this step or any
   * after it, where a reconnect could only time out.
   */
  endsConnection?: boolean;
}
