/**
 * Reads and verifies an event log. A torn last line (the process died in the
 * middle of an append) is tolerated and reported; anything else that is not
 * a well-formed, correctly chained record is refused with its line number,
 * because resuming from a log that lies would repeat or skip side effects.
 */
import { createHash } from "node:crypto";
import type { EventRecord } from "./events.ts";

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

/** A verified log. */
export interface LogContents {
  records: EventRecord[];
  /** Set when the last line was incomplete (it is not in `records`). */
  torn?: TornTail;
  /** Byte length of the complete lines: the offset the next writer appends at. */
  validBytes: number;
}

const HASH_KEY = ',"hash":"';
/** `,"hash":"<64 hex>"` */
const HASH_MEMBER = HASH_KEY.length + 64 + 1;

/**
 * Where the top-level hash member starts. Canonical key order puts it just
 * before prev, run, seq, step, ts and type, whose lengths are known from the
 * parsed record; that avoids scanning 100,000 lines on every resume. Falls
 * back to a search when a field needed escaping.
 */
function hashMemberAt(text: string, rec: EventRecord): number {
  const tail = 9 + rec.prev.length + 9 + String(rec.run).length + 8 + String(rec.seq).length +
    8 + (rec.step === null ? 4 : String(rec.step).length + 2) + 7 + rec.ts.length + 10 +
    rec.type.length + 2;
  const at = text.length - tail - HASH_MEMBER;
  if (
    at > 0 && text.startsWith(HASH_KEY, at) && text.startsWith('","prev":"', at + HASH_MEMBER - 1)
  ) {
    return at;
  }
  return text.lastIndexOf(HASH_KEY);
}

/** Reads and verifies `file`. Throws EventLogError on anything but a torn last line. */
export async function readEventLog(file: string): Promise<LogContents> {
  return parseEventLog(await Deno.readFile(file), file);
}

/** Verifies log bytes (see readEventLog). */
export function parseEventLog(bytes: Uint8Array, file: string): LogContents {
  const lastNewline = bytes.lastIndexOf(0x0a);
  const validBytes = lastNewline + 1;
  const decoder = new TextDecoder();
  const body = decoder.decode(bytes.subarray(0, validBytes));
  const lines = body === "" ? [] : body.slice(0, -1).split("\n");
  const records: EventRecord[] = [];
  let prev = "";
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const end = bytes.indexOf(0x0a, at);
    // ASCII lines (the usual case) are hashed straight from the file's bytes.
    const raw = end - at === lines[i].length ? bytes.subarray(at, end) : undefined;
    const rec = verifyLine(lines[i], i + 1, prev, records[0]?.run, file, raw);
    records.push(rec);
    prev = rec.hash;
    at = end + 1;
  }
  if (validBytes === bytes.length) return { records, validBytes };
  const tail = decoder.decode(bytes.subarray(validBytes));
  const line = lines.length + 1;
  if (tail.length > 1 && isRecord(tail.slice(0, -1), line, prev, records[0]?.run, file)) {
    // A crash writes a prefix of "record\n"; a whole record followed by a stray
    // byte is an edit, not a crash.
    throw new EventLogError(file, line, "complete record followed by stray bytes (edited log)");
  }
  return { records, torn: { line, bytes: bytes.length - validBytes }, validBytes };
}

function isRecord(
  text: string,
  line: number,
  prev: string,
  run: string | undefined,
  file: string,
): boolean {
  try {
    verifyLine(text, line, prev, run, file);
    return true;
  } catch {
    return false;
  }
}

function verifyLine(
  text: string,
  line: number,
  prev: string,
  run: string | undefined,
  file: string,
  raw?: Uint8Array,
): EventRecord {
  let rec: EventRecord;
  try {
    rec = JSON.parse(text);
  } catch {
    const problem = text === ""
      ? "empty line in the middle of the log"
      : "not a JSON record (corrupted log)";
    throw new EventLogError(file, line, problem);
  }
  const problem = structureProblem(rec, line, prev, run);
  if (problem) throw new EventLogError(file, line, problem);
  const at = hashMemberAt(text, rec);
  if (at < 0) throw new EventLogError(file, line, 'missing "hash"');
  // Canonical order leaves no other hash member after the top-level one.
  if (text.indexOf(HASH_KEY, at + 1) >= 0) {
    throw new EventLogError(file, line, "not a canonical record (edited log)");
  }
  // The line is the canonical JSON of the record; without its hash member it
  // is exactly what the hash was computed over.
  const hash = createHash("sha256");
  if (raw) hash.update(raw.subarray(0, at)).update(raw.subarray(at + HASH_MEMBER));
  else hash.update(text.slice(0, at)).update(text.slice(at + HASH_MEMBER));
  if (hash.digest("hex") !== rec.hash) {
    throw new EventLogError(file, line, "hash mismatch: the record was altered");
  }
  return rec;
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
  if (run !== undefined && rec.run !== run) return `record belongs to run "${rec.run}"`;
  return undefined;
}
