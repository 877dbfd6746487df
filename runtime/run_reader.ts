/**
 * Reading a run's state the way resume, cleanup and `runs` need it: the
 * log streamed (bounded memory), checked against the run's seal, and folded
 * from the newest sealed snapshot so the cost is the tail of the log.
 *
 * The seal marks the last durable record the writer acknowledged: the log
 * may not end before it (a cut). Records after it were written by a process
 * that died before it sealed them (output is never sealed at once); they
 * carry the run key's MAC like every record, so they are the writer's own
 * and count.
 */
import type { EventRecord } from "./events.ts";
import { applyEvent, emptyRunState, type RunState } from "./fold.ts";
import { EventLogError, scanEventLog, type ScanStart, type TornTail } from "./log_reader.ts";
import fs from "node:fs";
import { assertRealDirectory, isNotFound, openLogFile } from "./log_file.ts";
import { eventsPath, runDir } from "./paths.ts";
import { RunSeal, sealHome } from "./seal.ts";
import { newestSnapshot, snapshotsDir } from "./snapshot.ts";
import type { SecretRefs } from "./secret_refs.ts";
import { RunRefusedError } from "./errors.ts";

/** Options of readRun. */
export interface ReadRunOptions {
  /** Where keys and seals live (default: sealHome()). */
  sealHome?: string;
  /** Restores referenced secrets in state (resume, cleanup); without it state stays as displayed. */
  refs?: SecretRefs;
  /** Verify every record from the first, ignoring snapshots (cleanup, audits). */
  full?: boolean;
  /** Read a run that has no seal here (made by an older kiln, or moved without its seal). */
  acceptUnsealed?: boolean;
  /** Sees every verified record, those after the seal included (replay renders them all). */
  onRecord?: (record: EventRecord) => void;
  /**
   * Check every record's MAC as it is read (replay, which shows records as
   * it goes). Otherwise the sealed prefix is proven by the chain ending in
   * the sealed hash, and MACs are checked past the seal — and over the whole
   * log only to name the first bad record once the seal does not match.
   */
  everyMac?: boolean;
}

/** What readRun found. */
export interface RunRead {
  state: RunState;
  file: string;
  /** The last record kept (what the next record chains to). */
  last: { seq: number; hash: string };
  /** Bytes of the kept records: where the next writer appends. */
  validBytes: number;
  torn?: TornTail;
  /** The run's seal; undefined when the run has none here (accepted with acceptUnsealed). */
  seal?: RunSeal;
  /** Seq the fold started from (0 without a snapshot). */
  snapshotSeq: number;
  /** Records after the seal (kept or not): written after the last acknowledged append. */
  unsealed: number;
}

/** The run has no seal on this machine. */
export class UnsealedRunError extends RunRefusedError {
  constructor(runId: string, home: string) {
    super(
      `run ${runId} has no seal under ${home} (made by an older kiln, moved from another ` +
        `machine, or forged): its log cannot be trusted. Point KILN_SEAL_DIR at the directory ` +
        `holding its seal, or pass --accept-unsealed to use it anyway`,
    );
    this.name = "UnsealedRunError";
  }
}

/** Reads, verifies and folds run `runId` under `home`. */
export function readRun(runId: string, home: string, options: ReadRunOptions = {}): RunRead {
  const dir = runDir(runId, home);
  const file = eventsPath(runId, home);
  try {
    assertRealDirectory(dir);
  } catch (err) {
    if (isNotFound(err)) throw new RunRefusedError(`no run ${runId} under ${home}`);
    throw err;
  }
  const seals = options.sealHome ?? sealHome();
  const seal = RunSeal.load(runId, dir, seals);
  const sealed = seal !== undefined && seal.point.seq >= 0;
  if (!sealed && !options.acceptUnsealed) throw new UnsealedRunError(runId, seals);
  const sealSeq = sealed ? seal.point.seq : Infinity;
  const snap = sealed && !options.full
    ? newestSnapshot(snapshotsDir(dir), seal, sealSeq)
    : undefined;
  const refs = options.refs;
  // A parsed snapshot is this reader's own copy; references need restoring only if any exist.
  const state = snap
    ? (refs && snap.hasRefs ? refs.unmaskState(snap.state) : snap.state)
    : emptyRunState(runId);
  const start: ScanStart | undefined = snap
    ? { offset: snap.offset, seq: snap.seq, hash: snap.hash }
    : undefined;
  if (snap) assertSnapshotInFile(file, snap.offset, snap.seq);
  const fold = (r: EventRecord, line: string) => {
    const rec = refs && line.includes("<sensitive:") ? { ...r, data: refs.unmaskState(r.data) } : r;
    applyEvent(state, rec);
  };
  const macOf = sealed ? (hash: string) => seal.recordMac(hash) : undefined;
  let scan;
  try {
    scan = scanEventLog(file, {
      runId,
      start,
      macOf,
      macFrom: options.everyMac ? 0 : sealSeq,
      onRecord: (r, _end, line) => {
        if (r.seq === sealSeq && r.hash !== seal!.point.hash) {
          throw new EventLogError(
            file,
            r.seq,
            "the record does not match the run's seal (the log was edited, re-hashed or replaced)",
          );
        }
        options.onRecord?.(r);
        fold(r, line);
      },
    });
  } catch (err) {
    if (isNotFound(err)) throw new RunRefusedError(`no run ${runId} under ${home}`);
    if (err instanceof EventLogError && !options.everyMac) firstForgedRecord(file, runId, macOf);
    throw err;
  }
  if (sealed && scan.last.seq < sealSeq) {
    firstForgedRecord(file, runId, macOf);
    throw new EventLogError(
      file,
      scan.last.seq + 1,
      `the log is cut: its seal covers ${sealSeq} events, the file holds ${scan.last.seq}`,
    );
  }
  if (snap && sealSeq === snap.seq && snap.hash !== seal!.point.hash) {
    throw new EventLogError(file, snap.seq, "the snapshot does not match the run's seal");
  }
  return {
    state,
    file,
    last: scan.last,
    validBytes: scan.validBytes,
    torn: scan.torn,
    seal: sealed ? seal : undefined,
    snapshotSeq: snap?.seq ?? 0,
    unsealed: sealed ? Math.max(0, scan.last.seq - sealSeq) : 0,
  };
}

/**
 * The seal did not match: find the first record whose MAC fails, so the
 * error names where the log was edited rather than where it was caught.
 * Throws that record's error; returns when every record carries its MAC.
 */
function firstForgedRecord(
  file: string,
  runId: string,
  macOf: ((hash: string) => string) | undefined,
): void {
  if (!macOf) return;
  try {
    scanEventLog(file, { runId, macOf });
  } catch (err) {
    if (err instanceof EventLogError) throw err;
  }
}

/** A snapshot's offset must end a line of the file: a log cut below it is refused. */
function assertSnapshotInFile(file: string, offset: number, seq: number): void {
  const fd = openLogFile(file, "read");
  try {
    const byte = new Uint8Array(1);
    const n = offset > 0 ? fs.readSync(fd, byte, 0, 1, offset - 1) : 1;
    if (n !== 1 || (offset > 0 && byte[0] !== 0x0a)) {
      throw new EventLogError(file, seq, "the log is cut below its last snapshot");
    }
  } finally {
    fs.closeSync(fd);
  }
}
