/**
 * The append-only, hash-chained, sealed run log. One writer per run (the
 * run lock guarantees it); appends are serialised in call order.
 *
 * - Output (`Ui` records) is masked: secrets become `<sensitive>`.
 * - State (every other record) is never rewritten: a secret inside it is
 *   replaced by a reference into the run's secret table (secret_refs.ts),
 *   which readers that need state restore exactly.
 * - Every record carries the run key's MAC (seal.ts); a durable append (an
 *   event that records a side effect) is fsynced before `append` returns,
 *   and the seal then moves to it, so no one can cut the log below it. The
 *   seal is written to the page cache at once (a kill -9 cannot lose it)
 *   and forced to disk at close: after a power loss the records past an
 *   older seal still carry their MACs and count.
 * - Every SNAPSHOT_EVERY records the fold is sealed into a snapshot, so a
 *   resume reads only the tail.
 */
import fs from "node:fs";
import { join } from "node:path";
import { canonicalJson, sha256Hex } from "./canonical.ts";
import { type EventRecord, isDurable, type NewEvent } from "./events.ts";
import type { RunState } from "./fold.ts";
import { assertRealDirectory, openLogFile } from "./log_file.ts";
import type { Masker } from "./masker.ts";
import { debugLogEnabled, debugLogEvent, maskDebugLogWith } from "./debug_log.ts";
import { eventsPath, runDir } from "./paths.ts";
import { readRun, type RunRead } from "./run_reader.ts";
import { RunSeal, SEAL_ID, sealHome } from "./seal.ts";
import { readSecretTable, SecretRefs, writeSecretTable } from "./secret_refs.ts";
import { registerReplica, type RunReplica, runStoreBackend } from "./replica.ts";
import { snapshotInterval, snapshotsDir, writeSnapshot } from "./snapshot.ts";

/** Receives every record right after it is written. */
export type EventListener = (record: EventRecord) => void;

/** Options of EventLog.create / EventLog.open. */
export interface EventLogOptions {
  /** Where keys and seals live (default: sealHome()). */
  sealHome?: string;
  /** open(): verify every record instead of starting from the newest snapshot. */
  full?: boolean;
  /** open(): continue a run that has no seal here (it gets one from now on). */
  acceptUnsealed?: boolean;
}

const encoder = new TextEncoder();

/** The writer of one run's `events.jsonl`. */
export class EventLog {
  readonly runId: string;
  readonly file: string;
  readonly masker: Masker;
  /** The run's references to secrets held in state. */
  readonly refs: SecretRefs;
  #fd: number;
  #seal: RunSeal;
  #dir: string;
  #seq: number;
  #prev: string;
  #listeners = new Set<EventListener>();
  #stateListeners = new Set<EventListener>();
  #state?: () => RunState;
  #snapshotEvery = snapshotInterval();
  #lastSnapshot = 0;
  #crashAt: number;
  #crashAfter?: { type: string; kind?: string };
  #crashBeforeSeal: number;
  #closed = false;
  /** Bytes of complete records in the file: where a failed write is cut back to. */
  #size: number;
  /** The shared store's copy of this run (replica.ts), when one is in use. */
  #replica?: RunReplica;
  /**
   * Benchmark hook (bench/store.ts): with KILN_BENCH_APPEND_LOG=<file>, how
   * long each appendAll holding a durable event blocked (ms) is appended to
   * that file at close. Off by default; it changes nothing else.
   */
  #benchAppendLog?: string;
  #durableMs: number[] = [];

  private constructor(
    parts: {
      runId: string;
      dir: string;
      fd: number;
      seal: RunSeal;
      masker: Masker;
      refs: SecretRefs;
      last?: { seq: number; hash: string };
      size?: number;
      snapshotSeq?: number;
      replica?: RunReplica;
    },
  ) {
    this.runId = parts.runId;
    this.#dir = parts.dir;
    this.file = join(parts.dir, "events.jsonl");
    this.#fd = parts.fd;
    this.#seal = parts.seal;
    this.masker = parts.masker;
    this.refs = parts.refs;
    this.#seq = parts.last?.seq ?? 0;
    this.#prev = parts.last?.hash ?? "";
    this.#size = parts.size ?? 0;
    this.#lastSnapshot = parts.snapshotSeq ?? 0;
    this.#replica = parts.replica;
    if (parts.replica) registerReplica(parts.dir, parts.replica);
    if (debugLogEnabled()) {
      // PACKER_LOG: every record, as written (output masked, secrets referenced).
      maskDebugLogWith(this.masker);
      this.#listeners.add(debugLogEvent);
    }
    // Test hooks for the crash tests: die hard right after event N is on disk
    // and acknowledged (KILN_CRASH_AT_SEQ=N), after the first event of a type,
    // optionally of a resource kind or step (KILN_CRASH_AFTER=ResourceCreated:aws.instance,
    // KILN_CRASH_AFTER=StepSucceeded:qemu.disk),
    // or after event N is on disk but before it is sealed (KILN_CRASH_BEFORE_SEAL=N),
    // exactly as `kill -9` would.
    this.#crashAt = Number(Deno.env.get("KILN_CRASH_AT_SEQ") ?? "0") || 0;
    this.#crashBeforeSeal = Number(Deno.env.get("KILN_CRASH_BEFORE_SEAL") ?? "0") || 0;
    this.#benchAppendLog = Deno.env.get("KILN_BENCH_APPEND_LOG") || undefined;
    const after = Deno.env.get("KILN_CRASH_AFTER");
    if (after) {
      const [type, kind] = after.split(":");
      this.#crashAfter = { type, kind };
    }
  }

  /** Creates the run directory (0700), its key and seal, and an empty log (0600). */
  static async create(
    runId: string,
    home: string,
    masker: Masker,
    options: EventLogOptions = {},
  ): Promise<EventLog> {
    const dir = runDir(runId, home);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    assertRealDirectory(dir);
    await Deno.chmod(dir, 0o700);
    const seal = RunSeal.create(runId, dir, options.sealHome ?? sealHome());
    const fd = openLogFile(eventsPath(runId, home), "create");
    fs.fchmodSync(fd, 0o600);
    const secrets = join(dir, "secrets");
    const refs = new SecretRefs(masker, (values) => writeSecretTable(secrets, seal, values));
    // In a shared store the run is created there too (and leased to this process) before any record.
    const replica = runStoreBackend()?.replica(runId, dir, true);
    replica?.seal(seal.record());
    return new EventLog({ runId, dir, fd, seal, masker, refs, replica });
  }

  /**
   * Opens an existing log for appending after verifying it against its
   * seal. A torn last line is cut away, so the chain continues from the
   * last complete record.
   */
  static open(
    runId: string,
    home: string,
    masker: Masker,
    options: EventLogOptions = {},
  ): Promise<{ log: EventLog; contents: RunRead }> {
    return Promise.resolve().then(() => {
      const dir = runDir(runId, home);
      const seals = options.sealHome ?? sealHome();
      const secrets = join(dir, "secrets");
      const known = RunSeal.load(runId, dir, seals);
      let seal = known && known.point.seq >= 0 ? known : undefined;
      const refs = new SecretRefs(masker, (values) => writeSecretTable(secrets, seal!, values));
      if (seal) refs.load(readSecretTable(secrets, seal));
      const contents = readRun(runId, home, {
        sealHome: seals,
        refs,
        full: options.full,
        acceptUnsealed: options.acceptUnsealed,
      });
      // A run accepted without a seal is sealed from now on.
      if (!seal && !known) fs.rmSync(join(dir, SEAL_ID), { force: true });
      seal ??= known ?? RunSeal.create(runId, dir, seals);
      const replica = runStoreBackend()?.replica(runId, dir, false);
      if (!contents.seal) {
        seal.write(contents.last);
        replica?.seal(seal.record());
      }
      const fd = openLogFile(contents.file, "update");
      if (fs.fstatSync(fd).size !== contents.validBytes) {
        fs.ftruncateSync(fd, contents.validBytes);
        fs.fdatasyncSync(fd);
      }
      const log = new EventLog({
        runId,
        dir,
        fd,
        seal,
        masker,
        refs,
        last: contents.last,
        size: contents.validBytes,
        snapshotSeq: contents.snapshotSeq,
        replica,
      });
      return { log, contents };
    });
  }

  /** Last sequence number written. */
  get seq(): number {
    return this.#seq;
  }

  /** The run's seal (MACs for what the run stores beside its log). */
  get seal(): RunSeal {
    return this.#seal;
  }

  /** Calls `listener` with every record as written (output masked, secrets referenced). */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` with every record as the caller gave it (state exactly
   * as created): what folds that drive the run must see.
   */
  subscribeState(listener: EventListener): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** The fold to snapshot every SNAPSHOT_EVERY records (kept current by a state listener). */
  trackState(state: () => RunState): void {
    this.#state = state;
  }

  /** Appends one event; see appendAll. */
  append(event: NewEvent): EventRecord | undefined {
    return this.appendAll([event])[0];
  }

  /**
   * Appends events in one write: a crash leaves all of them or none (a torn
   * tail at worst, which the reader drops). A component's own events and the
   * record that it finished go together, so no crash falls between them.
   * Synchronous I/O keeps concurrent builds' appends in call order without
   * a queue.
   */
  appendAll(events: NewEvent[]): EventRecord[] {
    // A straggler (output of a child process that outlived its cancelled
    // provisioner) after the run finished has nowhere to go: drop it.
    if (this.#closed) return [];
    const started = this.#benchAppendLog ? performance.now() : 0;
    const records: EventRecord[] = [];
    const originals: EventRecord[] = [];
    let text = "";
    let durable = false;
    let seq = this.#seq;
    let prev = this.#prev;
    for (const event of events) {
      const data = JSON.parse(JSON.stringify(event.data ?? {}));
      const body = {
        seq: ++seq,
        ts: new Date().toISOString(),
        run: this.runId,
        build: event.build ?? null,
        step: event.step ?? null,
        type: event.type,
        data: event.type === "Ui" ? this.masker.maskValue(data) : this.refs.maskState(data),
        prev,
      };
      const bodyText = canonicalJson(body);
      prev = sha256Hex(bodyText);
      const mac = this.#seal.recordMac(prev);
      const record: EventRecord = { ...body, hash: prev, mac };
      records.push(record);
      originals.push({ ...record, data });
      // The record's canonical form is the body's with hash and mac inserted
      // before prev (keys sorted), so the body is serialised only once.
      const at = bodyText.lastIndexOf(',"prev":"');
      text += `${bodyText.slice(0, at)},"hash":"${prev}","mac":"${mac}"${bodyText.slice(at)}\n`;
      durable ||= isDurable(event.type);
    }
    const bytes = encoder.encode(text);
    const sealNow = durable || seq - this.#seal.point.seq >= this.#snapshotEvery;
    try {
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(this.#fd, bytes.subarray(written));
      if (sealNow) fs.fdatasyncSync(this.#fd);
      // Through the store's write-ahead too: a durable append returns once the store has it.
      this.#replica?.append(text, this.#seq + 1, seq, sealNow);
      if (sealNow) {
        if (this.#crashBeforeSeal > this.#seq && this.#crashBeforeSeal <= seq) {
          Deno.kill(Deno.pid, "SIGKILL");
        }
        this.#seal.write({ seq, hash: prev }, false);
        this.#replica?.seal(this.#seal.record());
      }
    } catch (err) {
      this.#stop(err);
    }
    this.#size += bytes.length;
    if (this.#crashAt > this.#seq && this.#crashAt <= seq) Deno.kill(Deno.pid, "SIGKILL");
    const after = this.#crashAfter;
    if (
      after &&
      records.some((r) =>
        r.type === after.type &&
        (after.kind === undefined || r.data.kind === after.kind || r.step === after.kind)
      )
    ) {
      Deno.kill(Deno.pid, "SIGKILL");
    }
    this.#seq = seq;
    this.#prev = prev;
    for (const record of originals) for (const listener of this.#stateListeners) listener(record);
    for (const record of records) for (const listener of this.#listeners) listener(record);
    if (sealNow && this.#state && seq - this.#lastSnapshot >= this.#snapshotEvery) {
      this.#snapshot(this.#state);
    }
    if (this.#benchAppendLog && durable) this.#durableMs.push(performance.now() - started);
    return records;
  }

  /**
   * The log cannot be written (disk full, I/O error): nothing more can be
   * recorded, so nothing more may be done — a step would act without its
   * write-ahead record, a compensation would delete without a trace. The
   * partial record is cut away (the log stays whole up to its last complete
   * record) and the process stops with a clear message, leaving the run
   * exactly as a crash would: `--resume` or `cleanup` continues it.
   */
  #stop(err: unknown): never {
    try {
      fs.ftruncateSync(this.#fd, this.#size);
      fs.fdatasyncSync(this.#fd);
    } catch {
      // The reader drops a torn last line anyway.
    }
    const why = err instanceof Error ? err.message : String(err);
    const id = this.runId;
    try {
      Deno.stderr.writeSync(encoder.encode(
        // A store's errors name the store; a local one, the file.
        `kiln: cannot ${this.#replica ? "record the run in its store" : "write the run log"} ` +
          `${this.#replica ? `(working copy ${this.file})` : this.file}: ${why}. ` +
          `The run stopped after its last ` +
          `recorded event; once that is fixed, continue it with \`kiln build --resume ${id}\` ` +
          `or undo it with \`kiln cleanup ${id}\`.\n`,
      ));
    } finally {
      Deno.exit(1);
    }
  }

  /** Seals the fold at the last record written into a snapshot (and the store's copy). */
  #snapshot(state: () => RunState): void {
    this.#lastSnapshot = this.#seq;
    const snapshot = writeSnapshot(snapshotsDir(this.#dir), this.#seal, {
      run: this.runId,
      seq: this.#seq,
      hash: this.#prev,
      offset: this.#size,
      state: this.refs.maskState(state()),
    });
    if (snapshot) this.#replica?.snapshot(this.#seq, snapshot);
  }

  /** Seals what was written, then closes the file (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      fs.fdatasyncSync(this.#fd);
      // The store gets the last records before a seal that covers them.
      this.#replica?.flush();
      if (this.#replica && this.#state && this.#seq > this.#lastSnapshot) {
        // A final fold: a runner that never saw the run reads it from here, not from event 1.
        this.#snapshot(this.#state);
      }
      if (this.#seal.point.seq !== this.#seq) {
        this.#seal.write({ seq: this.#seq, hash: this.#prev });
        this.#replica?.seal(this.#seal.record());
      }
      this.#replica?.close();
      if (this.#benchAppendLog && this.#durableMs.length > 0) {
        fs.appendFileSync(this.#benchAppendLog, this.#durableMs.map((ms) => `${ms}\n`).join(""));
      }
    } finally {
      if (this.#replica) registerReplica(this.#dir, undefined);
      fs.closeSync(this.#fd);
      this.#seal.close();
    }
  }
}
