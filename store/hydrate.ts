/**
 * Bringing a run's working copy on this machine up to date from the store.
 * The store is the truth: records a local copy holds beyond it were never
 * acknowledged (the writer died before its append returned, so no side
 * effect followed them) and are cut, exactly as a torn last line is. What
 * the copy already holds is kept (`store-index.jsonl` says which segments
 * it has, and where each ends), so a warm copy costs one listing and the
 * new segments only.
 *
 * Nothing is trusted for being in the bucket: segment names must follow
 * each other seq by seq, the run key must unwrap under the team key, the
 * seal must verify under the run key, and secrets must decrypt. The local
 * reader then verifies every record's chain and MAC as for any local run.
 */
import fs from "node:fs";
import { join } from "node:path";
import { RunRefusedError } from "../runtime/errors.ts";
import { assertRealDirectory, openLogFile } from "../runtime/log_file.ts";
import { runDir } from "../runtime/paths.ts";
import { RunSeal, SEAL_ID, sealKeyFile } from "../runtime/seal.ts";
import { snapshotFileName } from "../runtime/snapshot.ts";
import { scanEventLog } from "../runtime/log_reader.ts";
import type { SecretBox } from "./envelope.ts";
import type { KeyWrapper, StoredKey } from "./key_wrap.ts";
import { RunKeys, seqOfKey } from "./layout.ts";
import type { StoreClient } from "./s3.ts";

/** The run's metadata object (`run.json`). */
export interface RunMeta {
  format: 1;
  run: string;
  sealId: string;
  key: StoredKey;
  createdAt: string;
}

/** The store was edited or damaged in a way kiln will not read past. */
export class StoreIntegrityError extends RunRefusedError {
  constructor(message: string) {
    super(message);
    this.name = "StoreIntegrityError";
  }
}

/** Where a working copy stands after hydration: where the next writer continues. */
export interface CopyState {
  runKey: Uint8Array;
  /** Seq of the last record in the store. */
  last: number;
  /** Bytes of the log. */
  end: number;
  /** ETag of the seal object (undefined: none yet). */
  sealEtag?: string;
}

/** The local index of segments a working copy holds. */
export const INDEX_FILE = "store-index.jsonl";

interface IndexEntry {
  f: number;
  l: number;
  e: number;
}

function readIndex(dir: string, size: number): IndexEntry[] {
  let text = "";
  try {
    text = fs.readFileSync(join(dir, INDEX_FILE), "utf8");
  } catch {
    return [];
  }
  const out: IndexEntry[] = [];
  for (const line of text.split("\n")) {
    try {
      const e = JSON.parse(line);
      if (e.e > size) break;
      out.push(e);
    } catch {
      break;
    }
  }
  return out;
}

/** Appends segment entries to the copy's index. */
export function appendIndex(dir: string, entries: IndexEntry[]): void {
  if (entries.length === 0) return;
  fs.appendFileSync(
    join(dir, INDEX_FILE),
    entries.map((e) => JSON.stringify(e) + "\n").join(""),
    { mode: 0o600 },
  );
}

/** Reads and checks run.json; RunRefusedError when the store has no such run. */
export async function readMeta(
  client: StoreClient,
  keys: RunKeys,
  runId: string,
): Promise<RunMeta> {
  const obj = await client.get(keys.run);
  if (!obj) throw new RunRefusedError(`no run ${runId} in the store ${client.config.url}`);
  let meta: RunMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(obj.body));
  } catch {
    throw new StoreIntegrityError(`run ${runId}: ${keys.run} in the store is not JSON`);
  }
  if (meta?.run !== runId || !/^[0-9a-f]{32}$/.test(String(meta.sealId))) {
    throw new StoreIntegrityError(`run ${runId}: ${keys.run} in the store is not this run's`);
  }
  return meta;
}

async function inOrder<T>(items: number[], limit: number, get: (i: number) => Promise<T>) {
  const out: T[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await get(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

function seqOfLine(line: string): number {
  const m = /"seq":(\d+)/.exec(line);
  return m ? Number(m[1]) : NaN;
}

/** Options of hydrate. */
export interface HydrateOptions {
  /**
   * The caller reads every record (replay, a timeline, cleanup). Otherwise
   * a fresh copy starts at the newest sealed snapshot: only the log after it
   * is fetched (the bytes before it are a hole the reader never reads).
   */
  full?: boolean;
  /**
   * The caller holds the run's lease: records this copy has beyond the store
   * (written by a process of this machine that died before sending them)
   * are verified under the run key and sent, rather than cut.
   */
  adoptTail?: boolean;
  /** Also fetch and decrypt the run's secrets (resume and cleanup need them; readers do not). */
  secrets?: SecretBox | ((runKey: Uint8Array) => SecretBox);
}

/** Brings run `runId`'s working copy under `home` up to date with the store. */
export async function hydrate(
  client: StoreClient,
  wrapper: KeyWrapper,
  prefix: string,
  runId: string,
  home: string,
  sealHome: string,
  options: HydrateOptions = {},
): Promise<CopyState> {
  const keys = new RunKeys(prefix, runId);
  const meta = await readMeta(client, keys, runId);
  const runKey = await wrapper.unwrap(runId, meta.key);
  const dir = runDir(runId, home);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertRealDirectory(dir);
  const idFile = join(dir, SEAL_ID);
  if (readOr(idFile) !== meta.sealId) {
    fs.rmSync(idFile, { force: true });
    fs.writeFileSync(idFile, meta.sealId, { mode: 0o600, flag: "wx" });
  }
  const keyFile = sealKeyFile(runId, dir, sealHome)!;
  fs.mkdirSync(join(keyFile, ".."), { recursive: true, mode: 0o700 });
  const haveKey = (() => {
    try {
      return new Uint8Array(fs.readFileSync(keyFile));
    } catch {
      return undefined;
    }
  })();
  if (!haveKey || haveKey.length !== 32 || haveKey.some((b, i) => b !== runKey[i])) {
    fs.rmSync(keyFile, { force: true });
    fs.writeFileSync(keyFile, runKey, { mode: 0o600, flag: "wx" });
  }

  // The seal first: it bounds the snapshot a fresh copy may start from, and a
  // writer stores a segment before the seal that covers it, so every segment
  // this seal covers is in the listing below. Read after it, a seal could
  // cover segments a live writer appended since, and an honest log look cut.
  const sealObj = await client.get(keys.seal);
  const sealPoint = sealObj ? storeSealPoint(runId, dir, sealHome, sealObj.body) : undefined;

  // The log: keep what the copy has that the store has too, fetch the rest.
  const file = join(dir, "events.jsonl");
  let size = sizeOf(file);
  let base = readBase(dir);
  if (base && (options.full || size < base.e)) {
    // A copy that starts mid-log cannot serve a reader of every record: fetch it whole.
    resetCopy(dir);
    size = 0;
    base = undefined;
  }
  if (size === 0 && !options.full && sealPoint) {
    base = await startFromSnapshot(client, keys, dir, runId, sealHome, sealPoint.seq);
    if (base) size = base.e;
  }
  const listed = (await client.list(keys.logPrefix, base ? keys.segment(base.f - 1) : undefined))
    .map((k) => {
      const seq = seqOfKey(k, keys.logPrefix);
      if (seq === undefined) {
        throw new StoreIntegrityError(`run ${runId}: a stray object ${k} in its log in the store`);
      }
      return seq;
    });
  const index = readIndex(dir, size).filter((e) => !base || e.f >= base.f);
  let kept = 0;
  let last = base ? base.f - 1 : 0;
  let end = base ? base.e : 0;
  while (
    kept < listed.length && kept < index.length && index[kept].f === listed[kept] &&
    index[kept].f === last + 1
  ) {
    last = index[kept].l;
    end = index[kept].e;
    kept++;
  }
  const rest = listed.slice(kept);
  const texts = await inOrder(rest, 8, async (first) => {
    const obj = await client.get(keys.segment(first));
    if (!obj) throw new StoreIntegrityError(`run ${runId}: segment ${first} vanished while read`);
    return obj.body;
  });
  const fresh: IndexEntry[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < rest.length; i++) {
    const bytes = texts[i];
    const text = decoder.decode(bytes);
    const first = seqOfLine(text);
    const tail = text.slice(text.lastIndexOf("\n", text.length - 2) + 1);
    const lastSeq = seqOfLine(tail);
    if (!text.endsWith("\n") || first !== rest[i] || rest[i] !== last + 1 || !(lastSeq >= first)) {
      throw new StoreIntegrityError(
        `run ${runId}: segment ${keys.segment(rest[i])} in the store does not continue the log ` +
          `after event ${last} (the store was edited, or written by something other than kiln)`,
      );
    }
    last = lastSeq;
    end += bytes.length;
    fresh.push({ f: first, l: lastSeq, e: end });
  }
  let keptEnd = kept > 0 ? index[kept - 1].e : (base?.e ?? 0);
  let adoptedTail = false;
  if (options.adoptTail && rest.length === 0 && size > keptEnd) {
    const hash = keptEnd === base?.e ? base.hash : undefined;
    const adopted = await adoptTail(client, keys, dir, runId, sealHome, { keptEnd, last, hash });
    if (adopted) {
      index.splice(kept);
      index.push(adopted);
      kept = index.length;
      last = adopted.l;
      end = adopted.e;
      keptEnd = adopted.e;
      adoptedTail = true;
    }
  }
  // Without the lease a reader leaves a tail this machine's dead writer left
  // (its own records, verified by the reader) for the next claim to send.
  const keepTail = !options.adoptTail && rest.length === 0 && size > keptEnd;
  if (!keepTail && (size !== keptEnd || rest.length > 0 || size === 0 || adoptedTail)) {
    const fd = size === 0 && !fs.existsSync(file)
      ? openLogFile(file, "create")
      : openLogFile(file, "update");
    try {
      fs.ftruncateSync(fd, keptEnd);
      for (const bytes of texts) {
        let written = 0;
        while (written < bytes.length) written += fs.writeSync(fd, bytes.subarray(written));
      }
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.writeFileSync(
      join(dir, INDEX_FILE),
      [...index.slice(0, kept), ...fresh.filter((e) => e.e > keptEnd)].map((e) =>
        JSON.stringify(e) + "\n"
      ).join(""),
      { mode: 0o600 },
    );
  }

  // The local seal is the store's: it must not exceed the log.
  const sealPath = join(keyFile, "..", "seal");
  fs.rmSync(sealPath, { force: true });
  const seal = RunSeal.load(runId, dir, sealHome);
  if (!seal) throw new StoreIntegrityError(`run ${runId}: its key could not be stored locally`);
  try {
    if (sealPoint && sealPoint.seq > last) {
      throw new StoreIntegrityError(
        `run ${runId}: the log in the store is cut: its seal covers ${sealPoint.seq} events, ` +
          `the store holds ${last}`,
      );
    }
    seal.write(sealPoint ?? { seq: 0, hash: "" });
  } finally {
    seal.close();
  }

  await hydrateSnapshots(client, keys, dir, last);
  if (options.secrets) {
    const box = typeof options.secrets === "function" ? options.secrets(runKey) : options.secrets;
    await hydrateSecrets(client, keys, dir, box);
  }
  return { runKey, last, end, sealEtag: sealObj?.etag };
}

function readOr(path: string): string | undefined {
  try {
    return fs.readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

async function hydrateSnapshots(client: StoreClient, keys: RunKeys, dir: string, last: number) {
  const local = join(dir, "snapshots");
  fs.mkdirSync(local, { recursive: true, mode: 0o700 });
  for (const name of fs.readdirSync(local)) {
    // A snapshot past the store's end describes records that were cut.
    if (!/^\d{12}\.json$/.test(name) || Number(name.slice(0, 12)) > last) {
      fs.rmSync(join(local, name), { force: true });
    }
  }
  const seqs = (await client.list(keys.snapshotPrefix))
    .map((k) => seqOfKey(k, keys.snapshotPrefix))
    .filter((s): s is number => s !== undefined && s <= last)
    .sort((a, b) => b - a);
  const newest = seqs[0];
  if (newest === undefined) return;
  const path = join(local, snapshotFileName(newest));
  if (fs.existsSync(path)) return;
  const obj = await client.get(keys.snapshot(newest));
  // Unverified here: the reader checks its MAC and ignores it when it does not verify.
  if (obj) fs.writeFileSync(path, obj.body, { mode: 0o600 });
}

async function hydrateSecrets(client: StoreClient, keys: RunKeys, dir: string, box: SecretBox) {
  const local = join(dir, "secrets");
  fs.mkdirSync(local, { recursive: true, mode: 0o700 });
  assertRealDirectory(local);
  const names = (await client.list(keys.secretPrefix)).map((k) =>
    k.slice(keys.secretPrefix.length)
  );
  for (const name of names) {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith(".")) continue;
    const obj = await client.get(keys.secret(name));
    if (!obj) continue;
    const plain = box.open(name, obj.body);
    const path = join(local, name);
    fs.rmSync(path, { force: true });
    fs.writeFileSync(path, plain, { mode: 0o600, flag: "wx" });
  }
  for (const name of fs.readdirSync(local)) {
    if (!names.includes(name)) fs.rmSync(join(local, name), { force: true });
  }
}

/** The complete line that ends at byte `end` of `file` (its last byte is the newline). */
function lineEndingAt(file: string, end: number): string {
  const fd = fs.openSync(file, "r");
  try {
    for (let span = 64 * 1024;; span *= 4) {
      const from = Math.max(0, end - span);
      const buf = new Uint8Array(end - from);
      fs.readSync(fd, buf, 0, buf.length, from);
      const text = new TextDecoder().decode(buf);
      const start = text.lastIndexOf("\n", text.length - 2);
      if (start >= 0 || from === 0) return text.slice(start + 1, text.length - 1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Sends the records this copy holds past the store's end, when they are
 * whole, chained to the store's last record and carry the run key's MAC:
 * output a process of this machine wrote before it died, which the store
 * had not been sent yet. Nothing is sent if anything else was appended
 * meanwhile (the conditional write loses) or a record does not verify.
 */
async function adoptTail(
  client: StoreClient,
  keys: RunKeys,
  dir: string,
  runId: string,
  sealHome: string,
  at: { keptEnd: number; last: number; hash?: string },
): Promise<IndexEntry | undefined> {
  const file = join(dir, "events.jsonl");
  const seal = RunSeal.load(runId, dir, sealHome);
  if (!seal) return undefined;
  let hash = at.hash ?? "";
  if (at.keptEnd > 0 && at.hash === undefined) {
    try {
      const record = JSON.parse(lineEndingAt(file, at.keptEnd));
      if (record.seq !== at.last) return undefined;
      hash = String(record.hash);
    } catch {
      return undefined;
    }
  }
  let scan;
  try {
    scan = scanEventLog(file, {
      runId,
      start: { offset: at.keptEnd, seq: at.last, hash },
      macOf: (h) => seal.recordMac(h),
    });
  } catch {
    return undefined; // A record that does not verify: the tail is cut, never sent.
  } finally {
    seal.close();
  }
  if (scan.last.seq <= at.last || scan.validBytes <= at.keptEnd) return undefined;
  const bytes = new Uint8Array(scan.validBytes - at.keptEnd);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, bytes, 0, bytes.length, at.keptEnd);
  } finally {
    fs.closeSync(fd);
  }
  const etag = await client.create(keys.segment(at.last + 1), bytes);
  if (etag === undefined) return undefined;
  return { f: at.last + 1, l: scan.last.seq, e: scan.validBytes };
}

/** Where a copy that starts mid-log starts (`store-base.json`): the seq, byte and hash after a snapshot. */
interface CopyBase {
  /** Seq of the first record the copy holds. */
  f: number;
  /** Its byte offset in the log. */
  e: number;
  /** Hash of the record before it. */
  hash: string;
}

/** The file marking a copy that starts mid-log. */
export const BASE_FILE = "store-base.json";

function sizeOf(file: string): number {
  try {
    return fs.lstatSync(file).size;
  } catch {
    return 0;
  }
}

function readBase(dir: string): CopyBase | undefined {
  try {
    const b = JSON.parse(fs.readFileSync(join(dir, BASE_FILE), "utf8"));
    return Number.isInteger(b.f) && Number.isInteger(b.e) && typeof b.hash === "string"
      ? b
      : undefined;
  } catch {
    return undefined;
  }
}

function resetCopy(dir: string): void {
  for (const name of ["events.jsonl", INDEX_FILE, BASE_FILE]) {
    fs.rmSync(join(dir, name), { force: true });
  }
  fs.rmSync(join(dir, "snapshots"), { recursive: true, force: true });
}

/** The point the store's seal attests, verified under the run key (the key file is in place). */
function storeSealPoint(
  runId: string,
  dir: string,
  sealHome: string,
  body: Uint8Array,
): { seq: number; hash: string } {
  const seal = RunSeal.load(runId, dir, sealHome);
  const point = seal?.parseRecord(new TextDecoder().decode(body));
  seal?.close();
  if (!point) {
    throw new StoreIntegrityError(
      `run ${runId}: its seal in the store does not verify under the run's key (edited or forged)`,
    );
  }
  return point;
}

/**
 * Starts a fresh copy at the newest snapshot the seal covers: the snapshot
 * (its MAC checked under the run key), and a log file whose bytes before
 * the snapshot's offset are a hole ending in a newline, so the records after
 * it land at their own offsets. Undefined when no usable snapshot exists.
 */
async function startFromSnapshot(
  client: StoreClient,
  keys: RunKeys,
  dir: string,
  runId: string,
  sealHome: string,
  maxSeq: number,
): Promise<CopyBase | undefined> {
  const seal = RunSeal.load(runId, dir, sealHome);
  if (!seal) return undefined;
  try {
    const seqs = (await client.list(keys.snapshotPrefix))
      .map((k) => seqOfKey(k, keys.snapshotPrefix))
      .filter((q): q is number => q !== undefined && q <= maxSeq)
      .sort((a, b) => b - a);
    for (const seq of seqs.slice(0, 2)) {
      const obj = await client.get(keys.snapshot(seq));
      if (!obj) continue;
      const text = new TextDecoder().decode(obj.body);
      const nl = text.indexOf("\n");
      const body = text.slice(nl + 1);
      if (nl !== 64 || !seal.verify(body, text.slice(0, nl))) continue;
      let snap;
      try {
        snap = JSON.parse(body);
      } catch {
        continue;
      }
      if (
        snap.run !== runId || snap.seq !== seq || !Number.isInteger(snap.offset) ||
        snap.offset <= 0 || typeof snap.hash !== "string"
      ) continue;
      resetCopy(dir);
      // Not the log's append mode: the newline goes at the hole's last byte.
      const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
      const fd = fs.openSync(
        join(dir, "events.jsonl"),
        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
        0o600,
      );
      try {
        fs.ftruncateSync(fd, snap.offset);
        // The buffer form: Deno's writeSync(fd, string, position) ignores the position.
        fs.writeSync(fd, new Uint8Array([0x0a]), 0, 1, snap.offset - 1);
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.mkdirSync(join(dir, "snapshots"), { recursive: true, mode: 0o700 });
      fs.writeFileSync(join(dir, "snapshots", snapshotFileName(seq)), obj.body, { mode: 0o600 });
      const base = { f: seq + 1, e: snap.offset, hash: snap.hash };
      fs.writeFileSync(join(dir, BASE_FILE), JSON.stringify(base), { mode: 0o600 });
      return base;
    }
  } finally {
    seal.close();
  }
  return undefined;
}
