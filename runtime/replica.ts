/**
 * Where a run's log lives besides this machine. By default a run lives only
 * in `$KILN_HOME/runs/<id>/`. A shared run store (store/, e.g. S3) makes that
 * directory a working copy: the store is the truth, every write is mirrored
 * to it, and any machine that can read it can bring a run's copy up to date
 * and continue it. The runtime knows only this interface; the command line
 * plugs a store in, so runtime/ never imports a cloud SDK.
 *
 * The write-ahead rule crosses the network through `append`: a durable
 * append returns only once its records are in the store, so no side effect
 * starts before its intent is stored.
 */

/** Mirrors one run's writes into the shared store. */
export interface RunReplica {
  /**
   * Records `text` (whole records, seqs `first`..`last`) appended to the
   * local log. Durable: returns once they are in the store, or throws
   * (nothing more may be done). Otherwise the records may be sent later,
   * always in order and before any later durable append.
   */
  append(text: string, first: number, last: number, durable: boolean): void;
  /** Sends the records still waiting now (returns once the store has them, or throws). */
  flush(): void;
  /** The run's newest seal record (sent when convenient; newer replaces older). */
  seal(record: string): void;
  /** A sealed snapshot of the fold at `seq` (a cache: sent when convenient). */
  snapshot(seq: number, text: string): void;
  /** A secret kept beside the log; in the store before this returns. */
  putSecret(name: string, bytes: Uint8Array): void;
  /** Removes every secret but those in `keep`. */
  removeSecrets(keep: readonly string[]): void;
  /** Sends everything still pending and gives the run up (its lease ends). */
  close(): void;
}

/** What a working copy must hold. */
export interface RefreshOptions {
  /** The run's resume secrets too (what `build --resume` reads before the lease). */
  secrets?: boolean;
  /**
   * Every record (replay, a timeline, cleanup). Otherwise a copy may start
   * at the newest sealed snapshot, which is all a fold needs.
   */
  full?: boolean;
}

/** A shared run store, as the runtime sees it. */
export interface RunStoreBackend {
  /** Where it is, for messages (`s3://bucket/prefix`). */
  readonly url: string;
  /** Run ids held in the store. */
  list(): Promise<string[]>;
  /**
   * Brings the local copy of run `runId` under `home` up to date for
   * reading (no lease); leaves it alone while a local process drives it.
   * Rejects with RunRefusedError when the store has no such run. `secrets`:
   * also its resume secrets (what `build --resume` reads before the lease).
   */
  refresh(runId: string, home: string, options?: RefreshOptions): Promise<void>;
  /** Whether a runner holds the run's lease now. */
  leased(runId: string): Promise<boolean>;
  /**
   * Takes the run's lease for this process and brings its local copy up to
   * date; the caller holds the local lock. Resolves to the lease's release;
   * rejects with RunRefusedError when the store has no such run or another
   * runner holds a live lease.
   */
  claim(runId: string, home: string, options?: RefreshOptions): Promise<() => Promise<void>>;
  /** The replica of a run this process now drives: `fresh` for a new run (creates it in the store). */
  replica(runId: string, runDirectory: string, fresh: boolean): RunReplica;
}

let backend: RunStoreBackend | undefined;
const replicas = new Map<string, RunReplica>();

/** Plugs a shared store in (undefined: runs live on this machine only). */
export function setRunStoreBackend(next: RunStoreBackend | undefined): void {
  backend = next;
}

/** The shared store in use, if any. */
export function runStoreBackend(): RunStoreBackend | undefined {
  return backend;
}

/** Registers the replica of the run in `runDirectory` (undefined: forgets it). */
export function registerReplica(runDirectory: string, replica: RunReplica | undefined): void {
  if (replica) replicas.set(runDirectory, replica);
  else replicas.delete(runDirectory);
}

/** The replica of the run in `runDirectory`, while a writer holds it. */
export function replicaOf(runDirectory: string): RunReplica | undefined {
  return replicas.get(runDirectory);
}
