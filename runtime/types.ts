/**
 * The contracts between the runtime and the components that run on it
 * (builders' steps, provisioners, post-processors). Everything a step returns
 * or records is JSON: the event log must be able to restore it after a crash.
 */

/** Output channel for one build; lines are prefixed with the build name. */
export interface Ui {
  /** A headline ("==> null: Running local shell script"). */
  say(message: string): void;
  /** A detail line ("    null: hello"). */
  message(message: string): void;
  /** An error line. */
  error(message: string): void;
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
}

/** Deletes one kind of resource. Must be idempotent: "not found" is success. */
export interface ResourceHandler {
  delete(ctx: CleanupContext, resource: ResourceRecord): Promise<void>;
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
  /** Write-ahead: log (fsync) what is about to be created, before the call that creates it. */
  intent(intent: ResourceIntentRecord): Promise<void>;
  /** Log (fsync) a created resource; it joins the cleanup ledger. */
  created(resource: ResourceRecord): Promise<void>;
  /** Log (fsync) a resource as deleted; it leaves the cleanup ledger. */
  deleted(resource: Pick<ResourceRecord, "kind" | "id">): Promise<void>;
  /** Template functions for this build (user vars, build_name, ...): renders `text` with `data`. */
  render(text: string, data?: Record<string, unknown>): string;
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
}
