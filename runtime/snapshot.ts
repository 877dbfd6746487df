/**
 * Sealed snapshots of the fold, so that resume costs the tail of the log
 * rather than all of it. Every SNAPSHOT_EVERY records the writer stores the
 * run's state as folded at a sealed record, with that record's seq, hash and
 * byte offset, authenticated by the run's seal key. A reader starts from the
 * newest snapshot whose MAC verifies and reads only the records after it; a
 * damaged, foreign or unsealed snapshot is ignored (a full fold), never
 * trusted. Snapshots hold state with secrets referenced, never in clear.
 */
import fs from "node:fs";
import { join } from "node:path";
import type { RunState } from "./fold.ts";
import type { RunSeal } from "./seal.ts";

/** Records between snapshots (KILN_SNAPSHOT_EVERY overrides it, for tests): a resume reads at most this many. */
export function snapshotInterval(): number {
  const n = Number(Deno.env.get("KILN_SNAPSHOT_EVERY") ?? "");
  return Number.isInteger(n) && n > 0 ? n : 5_000;
}

/** Snapshots kept per run (older ones are removed). */
const KEEP = 2;

/** The fold at one sealed record. */
export interface Snapshot {
  /** Set by the reader: the state holds secret references to restore. */
  hasRefs?: boolean;
  run: string;
  /** Seq of the last record folded into `state`. */
  seq: number;
  /** That record's hash: the next record's `prev`. */
  hash: string;
  /** Byte offset just past that record. */
  offset: number;
  /** The fold, secrets referenced (see secret_refs.ts). */
  state: RunState;
}

/** The snapshots directory of a run directory. */
export function snapshotsDir(runDirectory: string): string {
  return join(runDirectory, "snapshots");
}

function fileName(seq: number): string {
  return `${String(seq).padStart(12, "0")}.json`;
}

/**
 * Writes a snapshot (0600, atomically) and prunes old ones; a failure only
 * costs speed. The file is the MAC of the JSON text on the first line, then
 * the text itself: the reader authenticates exactly the bytes it parses.
 * Returns the file's text (undefined when it could not be written).
 */
export function writeSnapshot(dir: string, seal: RunSeal, snap: Snapshot): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { hasRefs: _derived, ...stored } = snap;
    const body = JSON.stringify(stored);
    const text = `${seal.mac(body)}\n${body}`;
    const file = join(dir, fileName(snap.seq));
    const tmp = `${file}.${Deno.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
    const names = fs.readdirSync(dir).filter((n) => /^\d{12}\.json$/.test(n)).sort();
    for (const old of names.slice(0, Math.max(0, names.length - KEEP))) {
      fs.rmSync(join(dir, old), { force: true });
    }
    return text;
  } catch {
    // A snapshot is a cache: without it the next reader folds the whole log.
    return undefined;
  }
}

/** A snapshot file's name (its seq, zero-padded so names sort by seq). */
export function snapshotFileName(seq: number): string {
  return fileName(seq);
}

/**
 * The newest snapshot of `seal`'s run at or below `maxSeq` whose MAC
 * verifies; undefined when there is none worth trusting.
 */
export function newestSnapshot(dir: string, seal: RunSeal, maxSeq: number): Snapshot | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^\d{12}\.json$/.test(n)).sort().reverse();
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (Number(name.slice(0, 12)) > maxSeq) continue;
    try {
      const file = join(dir, name);
      if (!fs.lstatSync(file).isFile()) continue;
      const text = fs.readFileSync(file, "utf8");
      const nl = text.indexOf("\n");
      const body = text.slice(nl + 1);
      if (nl !== 64 || !seal.verify(body, text.slice(0, nl))) continue;
      const snap = JSON.parse(body);
      if (
        snap.run === seal.runId && typeof snap.seq === "number" && snap.seq <= maxSeq &&
        typeof snap.offset === "number" && typeof snap.hash === "string"
      ) {
        return { ...snap, hasRefs: body.includes("<sensitive:") } as Snapshot;
      }
    } catch {
      // Damaged: try an older one.
    }
  }
  return undefined;
}
