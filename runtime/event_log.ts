/**
 * The append-only, hash-chained run log. One writer per run (the run lock
 * guarantees it); appends are serialised in call order, secrets are masked
 * before hashing, and events that record side effects are fsynced before
 * `append` resolves.
 */
import { canonicalJson, sha256Hex } from "./canonical.ts";
import { type EventRecord, isDurable, type NewEvent } from "./events.ts";
import { type LogContents, readEventLog } from "./log_reader.ts";
import type { Masker } from "./masker.ts";
import { eventsPath, runDir } from "./paths.ts";

/** Receives every record right after it is written. */
export type EventListener = (record: EventRecord) => void;

const encoder = new TextEncoder();

/** The writer of one run's `events.jsonl`. */
export class EventLog {
  readonly runId: string;
  readonly file: string;
  readonly masker: Masker;
  #fd: Deno.FsFile;
  #seq: number;
  #prev: string;
  #listeners = new Set<EventListener>();
  #crashAt: number;
  #crashAfter?: { type: string; kind?: string };
  #closed = false;
  /** Bytes of complete records in the file: where a failed write is cut back to. */
  #size: number;

  private constructor(
    runId: string,
    file: string,
    fd: Deno.FsFile,
    masker: Masker,
    last?: EventRecord,
    size = 0,
  ) {
    this.runId = runId;
    this.#size = size;
    this.file = file;
    this.#fd = fd;
    this.masker = masker;
    this.#seq = last?.seq ?? 0;
    this.#prev = last?.hash ?? "";
    // Test hooks for the crash tests: die hard right after event N is on disk
    // (KILN_CRASH_AT_SEQ=N), or after the first event of a type, optionally
    // of a resource kind (KILN_CRASH_AFTER=ResourceCreated:aws.instance),
    // exactly as `kill -9` would.
    this.#crashAt = Number(Deno.env.get("KILN_CRASH_AT_SEQ") ?? "0") || 0;
    const after = Deno.env.get("KILN_CRASH_AFTER");
    if (after) {
      const [type, kind] = after.split(":");
      this.#crashAfter = { type, kind };
    }
  }

  /** Creates the run directory (0700) and an empty log (0600). */
  static async create(runId: string, home: string, masker: Masker): Promise<EventLog> {
    const dir = runDir(runId, home);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700);
    const file = eventsPath(runId, home);
    const fd = await Deno.open(file, { createNew: true, write: true, append: true, mode: 0o600 });
    await Deno.chmod(file, 0o600);
    return new EventLog(runId, file, fd, masker);
  }

  /**
   * Opens an existing log for appending after verifying it; a torn last line
   * is cut away so the chain continues from the last complete record.
   */
  static async open(
    runId: string,
    home: string,
    masker: Masker,
  ): Promise<{ log: EventLog; contents: LogContents }> {
    const file = eventsPath(runId, home);
    const contents = await readEventLog(file);
    const fd = await Deno.open(file, { read: true, write: true });
    if (contents.torn) {
      await fd.truncate(contents.validBytes);
      await fd.syncData();
    }
    await fd.seek(0, Deno.SeekMode.End);
    const log = new EventLog(
      runId,
      file,
      fd,
      masker,
      contents.records.at(-1),
      contents.validBytes,
    );
    return { log, contents };
  }

  /** Last sequence number written. */
  get seq(): number {
    return this.#seq;
  }

  /** Calls `listener` for every record appended from now on; returns the unsubscriber. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Appends one event. Synchronous I/O keeps concurrent builds' appends in
   * call order without a queue; durable events are fsynced before returning.
   */
  append(event: NewEvent): EventRecord | undefined {
    return this.appendAll([event])[0];
  }

  /**
   * Appends events in one write: a crash leaves all of them or none (a torn
   * tail at worst, which the reader drops). A component's own events and the
   * record that it finished go together, so no crash falls between them.
   */
  appendAll(events: NewEvent[]): EventRecord[] {
    // A straggler (output of a child process that outlived its cancelled
    // provisioner) after the run finished has nowhere to go: drop it.
    if (this.#closed) return [];
    const records: EventRecord[] = [];
    let text = "";
    let durable = false;
    let seq = this.#seq;
    let prev = this.#prev;
    for (const event of events) {
      const body = {
        seq: ++seq,
        ts: new Date().toISOString(),
        run: this.runId,
        build: event.build ?? null,
        step: event.step ?? null,
        type: event.type,
        data: this.masker.maskValue(JSON.parse(JSON.stringify(event.data ?? {}))),
        prev,
      };
      prev = sha256Hex(canonicalJson(body));
      const record: EventRecord = { ...body, hash: prev };
      records.push(record);
      text += canonicalJson(record) + "\n";
      durable ||= isDurable(event.type);
    }
    const bytes = encoder.encode(text);
    let written = 0;
    try {
      while (written < bytes.length) written += this.#fd.writeSync(bytes.subarray(written));
      if (durable) this.#fd.syncDataSync();
    } catch (err) {
      this.#stop(err);
    }
    this.#size += bytes.length;
    if (this.#crashAt > this.#seq && this.#crashAt <= seq) Deno.kill(Deno.pid, "SIGKILL");
    const after = this.#crashAfter;
    if (
      after &&
      records.some((r) =>
        r.type === after.type && (after.kind === undefined || r.data.kind === after.kind)
      )
    ) {
      Deno.kill(Deno.pid, "SIGKILL");
    }
    this.#seq = seq;
    this.#prev = prev;
    for (const record of records) for (const listener of this.#listeners) listener(record);
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
      this.#fd.truncateSync(this.#size);
      this.#fd.syncDataSync();
    } catch {
      // The reader drops a torn last line anyway.
    }
    const why = err instanceof Error ? err.message : String(err);
    const id = this.runId;
    try {
      Deno.stderr.writeSync(encoder.encode(
        `kiln: cannot write the run log ${this.file}: ${why}. The run stopped after its last ` +
          `recorded event; once that is fixed, continue it with \`kiln build --resume ${id}\` ` +
          `or undo it with \`kiln cleanup ${id}\`.\n`,
      ));
    } finally {
      Deno.exit(1);
    }
  }

  /** Flushes and closes the file (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#fd.syncDataSync();
    } finally {
      this.#fd.close();
    }
  }
}
