/**
 * The objects of a run in the store, under `<prefix><run-id>/`:
 *
 * - `run.json`: created once (If-None-Match); the run key wrapped by the team key.
 * - `log/<seq>`: the log's segments, named by their first record's seq
 *   (12 digits, so names sort by seq). Each is created with If-None-Match,
 *   so two writers can never both append the same seq: the log cannot fork.
 * - `seal.json`: the newest seal record (replaced with If-Match).
 * - `lease.json`: which runner drives the run, until when (If-Match).
 * - `snapshots/<seq>`: sealed folds, so a reader fetches only the tail.
 * - `secrets/<name>`: what resume needs, encrypted client-side.
 */

/** The zero-padded seq of a segment or snapshot name. */
export function seqName(seq: number): string {
  return String(seq).padStart(12, "0");
}

/** Object keys of one run. */
export class RunKeys {
  readonly root: string;
  constructor(prefix: string, runId: string) {
    this.root = `${prefix}${runId}/`;
  }
  get run(): string {
    return `${this.root}run.json`;
  }
  get seal(): string {
    return `${this.root}seal.json`;
  }
  get lease(): string {
    return `${this.root}lease.json`;
  }
  get logPrefix(): string {
    return `${this.root}log/`;
  }
  segment(first: number): string {
    return `${this.logPrefix}${seqName(first)}`;
  }
  get snapshotPrefix(): string {
    return `${this.root}snapshots/`;
  }
  snapshot(seq: number): string {
    return `${this.snapshotPrefix}${seqName(seq)}`;
  }
  get secretPrefix(): string {
    return `${this.root}secrets/`;
  }
  secret(name: string): string {
    return `${this.secretPrefix}${name}`;
  }
}

/** The seq a `log/` or `snapshots/` key names, or undefined for a stray key. */
export function seqOfKey(key: string, prefix: string): number | undefined {
  const rest = key.slice(prefix.length);
  return /^\d{12}$/.test(rest) ? Number(rest) : undefined;
}
