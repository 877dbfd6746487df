/**
 * The honest-ledger invariant, checked from outside kiln: after a run ends
 * (success, failure, cancel) or is cleaned up, every live local-path entry
 * of its ledger is there — the very object the run recorded — and every
 * file the run made in the watched directories is in the ledger. Files that
 * were there before the run are the user's and never need an entry.
 */
import { join } from "node:path";
import { readEventLog } from "../../runtime/log_reader.ts";
import { foldRun, liveResources, type RunState } from "../../runtime/fold.ts";
import { eventsPath } from "../../runtime/paths.ts";
import { identityOf, isInside, sameIdentity } from "../../runtime/local_identity.ts";
import { isLocalPathRecord, ownedPathOf } from "../../runtime/local_path_resource.ts";

/** What the check looks at. */
export interface HonestyOptions {
  /** Directories in which the run may have made files. */
  watch: string[];
  /** Paths present before the run (`filesUnder` taken then): the user's. */
  before: Set<string>;
  /** Files the run made on purpose outside any ledger (a provisioner's own side effect). */
  exempt?: (path: string) => boolean;
}

/** Every file, symlink and other non-directory under `dirs` (absolute paths). */
export async function filesUnder(dirs: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else out.add(path);
    }
  };
  for (const dir of dirs) await walk(dir);
  return out;
}

/** The fold of a run's log (verified by kiln's reader). */
export async function runState(home: string, runId: string): Promise<RunState> {
  const { records } = await readEventLog(eventsPath(runId, home));
  return foldRun(records, runId);
}

/** Every way the ledger of `runId` disagrees with the disk; empty when it is honest. */
export async function ledgerProblems(
  home: string,
  runId: string,
  options: HonestyOptions,
): Promise<string[]> {
  const state = await runState(home, runId);
  const problems: string[] = [];
  const covered: { path: string; whole: boolean }[] = [];
  for (const b of Object.values(state.builds)) {
    for (const e of liveResources(b)) {
      const r = e.resource;
      if (!isLocalPathRecord(r)) continue;
      const owned = ownedPathOf(r);
      const now = await identityOf(r.id);
      if (!now) {
        problems.push(`live in the ledger but not on disk: ${r.id}`);
        continue;
      }
      if (!owned.identity) problems.push(`only claimed, never recorded: ${r.id}`);
      else if (!sameIdentity(owned.identity, now)) {
        problems.push(`live in the ledger but not the object it recorded: ${r.id}`);
      }
      covered.push({ path: r.id, whole: now.type === "dir" && owned.createdByRun === true });
      for (const f of owned.files ?? []) covered.push({ path: f.path, whole: true });
    }
  }
  for (const path of await filesUnder(options.watch)) {
    if (options.before.has(path) || options.exempt?.(path)) continue;
    const inLedger = covered.some((c) => c.path === path || (c.whole && isInside(path, c.path)));
    if (!inLedger) problems.push(`made by the run but not in the ledger: ${path}`);
  }
  return problems;
}
