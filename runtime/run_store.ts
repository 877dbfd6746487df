/**
 * Reading runs back: the list for `kiln runs`, one run's verified log and
 * fold for `runs show`, `cleanup` and `--resume`.
 */
import { runStoreBackend } from "./replica.ts";
import { join } from "node:path";
import type { RunState } from "./fold.ts";
import { kilnHome, runDir, runsRoot } from "./paths.ts";
import { readRun, type RunRead } from "./run_reader.ts";
import { isRunId } from "./run_id.ts";
import { errorMessage } from "./errors.ts";
import { liveProcessStart } from "./proc_stat.ts";

/** One line of `kiln runs`. */
export interface RunSummary {
  id: string;
  template?: string;
  /** succeeded, failed, cancelled, running (a live process drives it), interrupted, or corrupt. */
  status: string;
  startedAt?: string;
  finishedAt?: string;
  /** Start to finish, or to the last event of a run that has not finished. */
  durationMs?: number;
  builds: string[];
  /** Why the log could not be read (status "corrupt"). */
  problem?: string;
  /** The log matches a seal on this machine. */
  sealed?: boolean;
}

/** A run's verified log and its fold, as people see it (secrets shown as references). */
export interface LoadedRun {
  contents: RunRead;
  state: RunState;
}

/**
 * Reads and folds run `runId` for display; throws a clear error when it
 * does not exist or its log cannot be trusted. A run without a seal here is
 * shown (contents.seal is undefined) but never acted on.
 */
export async function loadRun(runId: string, home: string = kilnHome()): Promise<LoadedRun> {
  await runStoreBackend()?.refresh(runId, home);
  const contents = readRun(runId, home, { acceptUnsealed: true });
  return { contents, state: contents.state };
}

/**
 * The template, working directory and engine clock a run started with, from
 * its verified log (`build --resume` needs them before it prepares the
 * template and takes the lock for the resume itself).
 */
export async function readRunStart(
  runId: string,
  home: string = kilnHome(),
  options: { acceptUnsealed?: boolean } = {},
): Promise<{ template?: string; cwd?: string; initTime?: string }> {
  // Resume reads the run's kept inputs next: its secrets come along.
  await runStoreBackend()?.refresh(runId, home, { secrets: true });
  const { state } = readRun(runId, home, { acceptUnsealed: options.acceptUnsealed });
  return { template: state.template, cwd: state.cwd, initTime: state.initTime };
}

/** Whether a live process holds the run's lock. */
export async function isRunLocked(runId: string, home: string = kilnHome()): Promise<boolean> {
  try {
    const owner = JSON.parse(await Deno.readTextFile(join(runDir(runId, home), "lock")));
    // A zombie (killed, not yet reaped) holds nothing.
    const start = liveProcessStart(owner.pid);
    return start !== undefined && start === owner.start;
  } catch {
    return false;
  }
}

/** The display status of a folded run. */
export async function runStatus(state: RunState, home?: string): Promise<string> {
  if (!state.unfinished) return state.status;
  if (await isRunLocked(state.runId, home)) return "running";
  // Driven by a runner elsewhere, as its lease in the shared store says.
  return (await runStoreBackend()?.leased(state.runId)) ? "running" : "interrupted";
}

/** Every run under `home`, oldest first. */
export async function listRuns(home: string = kilnHome()): Promise<RunSummary[]> {
  const store = runStoreBackend();
  const ids: string[] = store ? await store.list() : [];
  if (!store) {
    await localRunIds(home, ids);
  }
  ids.sort();
  const out: RunSummary[] = [];
  for (const id of ids) {
    try {
      const { state, contents } = await loadRun(id, home);
      const started = state.startedAt ? Date.parse(state.startedAt) : undefined;
      const last = state.finishedAt ?? state.lastTs;
      const ended = last ? Date.parse(last) : undefined;
      out.push({
        id,
        template: state.template,
        status: await runStatus(state, home),
        startedAt: state.startedAt,
        finishedAt: state.finishedAt,
        durationMs: started !== undefined && ended !== undefined ? ended - started : undefined,
        builds: Object.keys(state.builds),
        sealed: contents.seal !== undefined,
      });
    } catch (err) {
      out.push({ id, status: "corrupt", builds: [], problem: errorMessage(err) });
    }
  }
  return out;
}

async function localRunIds(home: string, ids: string[]): Promise<void> {
  try {
    for await (const e of Deno.readDir(runsRoot(home))) {
      if (e.isDirectory && isRunId(e.name)) ids.push(e.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
