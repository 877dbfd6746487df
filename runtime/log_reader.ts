/**
 * Reads and verifies an event log as a stream: one line at a time, so a
 * log of any size is read in bounded memory. A torn last line (the process
 * died in the middle of an append) is tolerated and reported; anything else
 * that is not a well-formed, correctly chained record of this run is
 * refused with its line number, because resuming from a log that lies
 * would repeat or skip side effects. The chain proves the log consistent;
 * the run's seal (seal.ts) anchors it.
 */
import { sha256HexOf } from "./canonical.ts";
import type { EventRecord } from "./events.ts";
import fs from "node:fs";
import { openLogFile } from "./log_file.ts";

/** A log that cannot be trusted; names the file and the first bad line. */
export class EventLogError extends Error {
  /** The log file. */
  readonly file: string;
  /** 1-based line of the first bad record. */
  readonly line: number;
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = "EventLogError";
    this.file = file;
    this.line = line;
  }
}

/** The incomplete record at the end of a log, left by a crash mid-append. */
export interface TornTail {
  /** 1-based line number of the torn record. */
  line: number;
  /** Its length in bytes. */
  bytes: number;
}

/** Where a scan starts when the records before it are already known (a snapshot). */
export interface ScanStart {
  /** Byte offset of the first record to read. */
  offset: number;
  /** Seq of the record just before `offset`. */
  seq: number;
  /** Hash of the record just before `offset`. */
  hash: string;
}

/** Options of scanEventLog. */
export interface ScanOptions {
  /** Every record must belong to this run (its directory's id); default: the first record's. */
  runId?: string;
  /** Resume verification after a known record instead of at the start. */
  start?: ScanStart;
  /** Receives each verified record, the byte offset just past its newline, and its line. */
  onRecord?: (record: EventRecord, end: number, line: string) => void;
  /** Longest line accepted (default 64 MiB). */
  maxLineBytes?: number;
  /**
   * The run key's MAC of a record hash (see seal.ts): with it every record
   * must carry that MAC, so an edited and re-hashed record is caught where
   * the edit is, not only at the seal.
   */
  macOf?: (hash: string) => string;
  /** Check MACs only of records after this seq (those before are proven by a seal). */
  macFrom?: number;
}

/** What a scan found. */
export interface ScanResult {
  /** Records read (after `start`, if given). */
  count: number;
  /** The last complete record (or `start`'s). */
  last: { seq: number; hash: string };
  /** Byte length of the complete lines: where the next writer appends. */
  validBytes: number;
  /** Set when the last line was incomplete. */
  torn?: TornTail;
}

/** A verified log held in memory (small logs: tests, tools). */
export interface LogContents {
  records: EventRecord[];
  /** Set when the last line was incomplete (it is not in `records`). */
  torn?: TornTail;
  /** Byte length of the complete lines: the offset the next writer appends at. */
  validBytes: number;
}

const CHUNK = 1 << 20;
const DEFAULT_MAX_LINE = 64 << 20;

/**
 * Streams `file` through the chain verifier. Throws EventLogError at the
 * first bad record (records before it were already delivered to onRecord).
 */
export function scanEventLog(file: string, options: ScanOptions = {}): ScanResult {
  const fd = openLogFile(file, "read");
  try {
    return scan(fd, file, options);
  } finally {
    fs.closeSync(fd);
  }
}

function scan(fd: number, file: string, options: ScanOptions): ScanResult {
  const start = options.start ?? { offset: 0, seq: 0, hash: "" };
  const verifier = new ChainVerifier(file, start, options.runId, options.macOf, options.macFrom);
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  let buf = new Uint8Array(CHUNK);
  let filled = 0;
  let offset = start.offset;
  let position = start.offset;
  let count = 0;
  for (;;) {
    if (filled === buf.length) {
      if (buf.length >= maxLine) {
        throw new EventLogError(file, verifier.seq + 1, `line longer than ${maxLine} bytes`);
      }
      const bigger = new Uint8Array(Math.min(buf.length * 2, maxLine));
      bigger.set(buf);
      buf = bigger;
    }
    const n = fs.readSync(fd, buf, filled, buf.length - filled, position);
    if (n === 0) break;
    position += n;
    filled += n;
    const view = buf.subarray(0, filled);
    let at = 0;
    for (let nl = view.indexOf(0x0a); nl !== -1; nl = view.indexOf(0x0a, at)) {
      const record = verifier.line(view.subarray(at, nl));
      offset += nl + 1 - at;
      count++;
      options.onRecord?.(record, offset, verifier.text);
      at = nl + 1;
    }
    if (at > 0) {
      buf.copyWithin(0, at, filled);
      filled -= at;
    }
  }
  const result: ScanResult = {
    count,
    last: { seq: verifier.seq, hash: verifier.prev },
    validBytes: offset,
  };
  if (filled === 0) return result;
  const line = verifier.seq + 1;
  if (filled > 1 && buf[filled - 1] !== 0x0a && verifier.isRecord(buf.subarray(0, filled - 1))) {
    // A crash writes a prefix of "record\n"; a whole record followed by a
    // stray byte is an edit, not a crash.
    throw new EventLogError(file, line, "complete record followed by stray bytes (edited log)");
  }
  return { ...result, torn: { line, bytes: filled } };
}

/** Reads and verifies a whole log into memory (small logs; see scanEventLog). */
export function readEventLog(file: string, runId?: string): Promise<LogContents> {
  return Promise.resolve().then(() => {
    const records: EventRecord[] = [];
    const { torn, validBytes } = scanEventLog(file, {
      runId,
      onRecord: (r) => records.push(r),
    });
    return { records, torn, validBytes };
  });
}

/** Verifies log bytes held in memory (see scanEventLog). */
export function parseEventLog(
  bytes: Uint8Array,
  file: string,
  runId?: string,
  macOf?: (hash: string) => string,
): LogContents {
  const verifier = new ChainVerifier(file, { offset: 0, seq: 0, hash: "" }, runId, macOf);
  const records: EventRecord[] = [];
  let at = 0;
  for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, at)) {
    records.push(verifier.line(bytes.subarray(at, nl)));
    at = nl + 1;
  }
  if (at === bytes.length) return { records, validBytes: at };
  const line = verifier.seq + 1;
  const tail = bytes.subarray(at);
  if (tail.length > 1 && verifier.isRecord(tail.subarray(0, tail.length - 1))) {
    throw new EventLogError(file, line, "complete record followed by stray bytes (edited log)");
  }
  return { records, torn: { line, bytes: tail.length }, validBytes: at };
}

const HASH_KEY = ',"hash":"';
/** `,"hash":"<64 hex>"` */
const HASH_MEMBER = HASH_KEY.length + 64 + 1;
const MAC_KEY = '","mac":"';
/** `,"hash":"<64 hex>","mac":"<64 hex>"`: canonical order puts mac right after hash. */
const SEALED_MEMBER = HASH_MEMBER + MAC_KEY.length - 1 + 64 + 1;
const decoder = new TextDecoder();

/** Checks lines one after another against the chain. */
class ChainVerifier {
  seq: number;
  prev: string;
  /** The text of the last verified line. */
  text = "";
  #file: string;
  #run?: string;
  #lastText = "";
  #macOf?: (hash: string) => string;
  #macFrom: number;

  constructor(
    file: string,
    start: ScanStart,
    run?: string,
    macOf?: (hash: string) => string,
    macFrom = 0,
  ) {
    this.#file = file;
    this.seq = start.seq;
    this.prev = start.hash;
    this.#run = run;
    this.#macOf = macOf;
    this.#macFrom = macFrom;
  }

  /** Verifies the next line (without its newline) and advances the chain. */
  line(bytes: Uint8Array): EventRecord {
    const rec = this.#verify(bytes, this.seq + 1);
    this.text = this.#lastText;
    this.#run ??= rec.run;
    this.seq = rec.seq;
    this.prev = rec.hash;
    return rec;
  }

  /** Whether `bytes` would verify as the next record. */
  isRecord(bytes: Uint8Array): boolean {
    try {
      this.#verify(bytes, this.seq + 1);
      return true;
    } catch {
      return false;
    }
  }

  #verify(bytes: Uint8Array, line: number): EventRecord {
    const file = this.#file;
    const text = decoder.decode(bytes);
    this.#lastText = text;
    let rec: EventRecord;
    try {
      rec = JSON.parse(text);
    } catch {
      const problem = text === ""
        ? "empty line in the middle of the log"
        : "not a JSON record (corrupted log)";
      throw new EventLogError(file, line, problem);
    }
    const problem = structureProblem(rec, line, this.prev, this.#run);
    if (problem) throw new EventLogError(file, line, problem);
    const sealed = rec.mac !== undefined;
    if (sealed && (typeof rec.mac !== "string" || rec.mac.length !== 64)) {
      throw new EventLogError(file, line, 'bad "mac"');
    }
    const member = sealed ? SEALED_MEMBER : HASH_MEMBER;
    const at = hashMemberAt(text, rec, member);
    if (at < 0) throw new EventLogError(file, line, 'missing "hash"');
    // Canonical order leaves no other hash member after the top-level one.
    if (text.indexOf(HASH_KEY, at + 1) >= 0) {
      throw new EventLogError(file, line, "not a canonical record (edited log)");
    }
    // The line is the canonical JSON of the record; without its hash (and
    // mac) members it is exactly what the hash was computed over. ASCII
    // lines (the usual case) are hashed straight from the file's bytes;
    // others from the decoded text, so bytes that are not UTF-8 cannot verify.
    const hash = bytes.length === text.length
      ? sha256HexOf([bytes.subarray(0, at), bytes.subarray(at + member)])
      : sha256HexOf([text.slice(0, at), text.slice(at + member)]);
    if (hash !== rec.hash) {
      throw new EventLogError(file, line, "hash mismatch: the record was altered");
    }
    if (this.#macOf && rec.seq > this.#macFrom && rec.mac !== this.#macOf(rec.hash)) {
      throw new EventLogError(
        file,
        line,
        "the record is not authenticated by the run's key (edited and re-hashed, or forged)",
      );
    }
    return rec;
  }
}

/**
 * Where the top-level hash member starts. Canonical key order puts it just
 * before prev, run, seq, step, ts and type, whose lengths are known from the
 * parsed record; that avoids scanning every line. Falls back to a search
 * when a field needed escaping.
 */
function hashMemberAt(text: string, rec: EventRecord, member: number): number {
  const tail = 9 + rec.prev.length + 9 + String(rec.run).length + 8 + String(rec.seq).length +
    8 + (rec.step === null ? 4 : String(rec.step).length + 2) + 7 + rec.ts.length + 10 +
    rec.type.length + 2;
  const at = text.length - tail - member;
  if (
    at > 0 && text.startsWith(HASH_KEY, at) && text.startsWith('","prev":"', at + member - 1) &&
    (member === HASH_MEMBER || text.startsWith(MAC_KEY, at + HASH_MEMBER - 1))
  ) {
    return at;
  }
  const found = text.lastIndexOf(HASH_KEY);
  if (
    found >= 0 && member !== HASH_MEMBER && !text.startsWith(MAC_KEY, found + HASH_MEMBER - 1)
  ) {
    return -1;
  }
  return found;
}

/** What is wrong with a parsed record's shape or place in the chain, if anything. */
function structureProblem(
  rec: EventRecord,
  line: number,
  prev: string,
  run: string | undefined,
): string | undefined {
  if (rec === null || typeof rec !== "object" || Array.isArray(rec)) return "not a JSON object";
  if (typeof rec.seq !== "number") return 'missing or non-numeric "seq"';
  if (rec.seq !== line) return `sequence gap: expected seq ${line}, found ${rec.seq}`;
  if (typeof rec.hash !== "string" || rec.hash.length !== 64) return 'bad "hash"';
  if (typeof rec.prev !== "string" || rec.prev !== prev) {
    return `hash chain broken: "prev" does not match the hash of line ${line - 1}`;
  }
  if (typeof rec.type !== "string" || typeof rec.ts !== "string") return 'bad "type" or "ts"';
  if (rec.data === null || typeof rec.data !== "object") return 'bad "data"';
  if (typeof rec.run !== "string") return 'bad "run"';
  if (run !== undefined && rec.run !== run) {
    return `record belongs to run "${rec.run}", not to this run "${run}"`;
  }
  return undefined;
}
