/**
 * The shape of one event-log record and the event types kiln writes. Types
 * are open strings (components may emit their own); the ones listed here are
 * the ones the fold understands.
 */

/** One line of `events.jsonl`. */
export interface EventRecord {
  /** 1-based, no gaps. */
  seq: number;
  /** ISO-8601 UTC time of the append. */
  ts: string;
  run: string;
  /** Build name, or null for run-level events. */
  build: string | null;
  /** Step id, or null. */
  step: string | null;
  type: string;
  data: Record<string, unknown>;
  /** Hash of the previous record ("" for the first). */
  prev: string;
  /** SHA-256 (hex) over the canonical JSON of the record without `hash` and `mac`. */
  hash: string;
  /** HMAC-SHA256 of `hash` under the run's key (seal.ts): only the run's writer can make it. */
  mac?: string;
}

/** What a caller hands to the writer; seq, ts, run, prev and hash are the writer's. */
export interface NewEvent {
  build?: string | null;
  step?: string | null;
  type: string;
  data?: Record<string, unknown>;
}

/** Event types kiln itself writes. */
export const EventType = {
  RunStarted: "RunStarted",
  RunResumed: "RunResumed",
  RunCancelled: "RunCancelled",
  RunFinished: "RunFinished",
  BuildStarted: "BuildStarted",
  BuildFinished: "BuildFinished",
  StepStarted: "StepStarted",
  StepSucceeded: "StepSucceeded",
  StepFailed: "StepFailed",
  ResourceIntent: "ResourceIntent",
  ResourceCreated: "ResourceCreated",
  ResourceDeleted: "ResourceDeleted",
  /**
   * `{kind, id, reason}`: kiln refused to delete it (not provably this
   * run's) and leaves it alone; it is no longer this run's to delete.
   */
  ResourceReleased: "ResourceReleased",
  ProvisionerStarted: "ProvisionerStarted",
  ProvisionerSucceeded: "ProvisionerSucceeded",
  ProvisionerFailed: "ProvisionerFailed",
  /**
   * `{index, type, attempt, error}`: an attempt of a provisioner with
   * max_retries failed and the next one starts (timelines show retries).
   */
  ProvisionerRetrying: "ProvisionerRetrying",
  PostProcessorStarted: "PostProcessorStarted",
  PostProcessorFailed: "PostProcessorFailed",
  ArtifactProduced: "ArtifactProduced",
  ArtifactDiscarded: "ArtifactDiscarded",
  CompensationStarted: "CompensationStarted",
  CompensationSucceeded: "CompensationSucceeded",
  CompensationFailed: "CompensationFailed",
  CleanupStarted: "CleanupStarted",
  CleanupFinished: "CleanupFinished",
  /** A communicator moved one chunk of a file transfer: `{bytes, total}` so far. */
  FileTransferProgress: "FileTransferProgress",
  Ui: "Ui",
} as const;

/**
 * Events after which a crash must not lose the record: each one says a side
 * effect happened (or is about to). They are fsynced; the rest are batched.
 */
const durable = new Set<string>([
  EventType.RunStarted,
  EventType.RunResumed,
  EventType.RunCancelled,
  EventType.RunFinished,
  EventType.BuildStarted,
  EventType.BuildFinished,
  EventType.StepSucceeded,
  EventType.StepFailed,
  EventType.ResourceIntent,
  EventType.ResourceCreated,
  EventType.ResourceDeleted,
  EventType.ResourceReleased,
  EventType.ProvisionerStarted,
  EventType.ProvisionerSucceeded,
  EventType.ProvisionerFailed,
  EventType.ArtifactProduced,
  EventType.ArtifactDiscarded,
  EventType.CompensationStarted,
  EventType.CompensationSucceeded,
  EventType.CompensationFailed,
  EventType.CleanupStarted,
  EventType.CleanupFinished,
]);

/** Whether an event of this type is fsynced before `append` returns. */
export function isDurable(type: string): boolean {
  return durable.has(type);
}
