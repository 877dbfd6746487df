/**
 * Reading runs back: the list for `kiln runs`, one run's verified log and
 * fold for `runs show`, `cleanup` and `--resume`.
 */
import { join } from "node:path";
import { foldRun, type RunState } from "./fold.ts";
import { type LogContents, readEventLog } from "./log_reader.ts";
import { eventsPath, kilnHome, runDir, runsRoot } from "./paths.ts";
import { isRunId } from "./run_id.ts";
import { errorMessage, RunRefusedError } from "./errors.ts";
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
}

/** A run's verified log and its fold. */
export interface LoadedRun {
  contents: LogContents;
  state: RunState;
}

/** Reads and folds run `runId`; throws a clear error when it does not exist or is corrupt. */
export async function loadRun(runId: string, home: string = kilnHome()): Promise<LoadedRun> {
  const file = eventsPath(runId, home);
  try {
    await Deno.stat(file);
  } catch {
    throw new RunRefusedError(`no run ${runId} under ${home}`);
  }
  const contents = await readEventLog(file);
  return { contents, state: foldRun(contents.records, runId) };
}

/**
 * The template and working directory a run started with, from its first
 * record only (`build --resume` needs them before the full, verified read
 * that resuming does anyway).
 */
export async function readRunStart(
  runId: string,
  home: string = kilnHome(),
): Promise<{ template?: string; cwd?: string; initTime?: string }> {
  const file = eventsPath(runId, home);
  let fd: Deno.FsFile;
  try {
    fd = await Deno.open(file);
  } catch {
    throw new RunRefusedError(`no run ${runId} under ${home}`);
  }
  try {
    const buf = new Uint8Array(64 * 1024);
    const n = (await fd.read(buf)) ?? 0;
    const text = new TextDecoder().decode(buf.subarray(0, n));
    const first = JSON.parse(text.slice(0, text.indexOf("\n")));
    return first.type === "RunStarted"
      ? { template: first.data?.template, cwd: first.data?.cwd, initTime: first.data?.initTime }
      : {};
  } catch {
    return {};
  } finally {
    fd.close();
  }
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
  return (await isRunLocked(state.runId, home)) ? "running" : "interrupted";
}

/** Every run under `home`, oldest first. */
export async function listRuns(home: string = kilnHome()): Promise<RunSummary[]> {
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(runsRoot(home))) {
      if (e.isDirectory && isRunId(e.name)) ids.push(e.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  ids.sort();
  const out: RunSummary[] = [];
  for (const id of ids) {
    try {
      const { state } = await loadRun(id, home);
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
      });
    } catch (err) {
      out.push({ id, status: "corrupt", builds: [], problem: errorMessage(err) });
    }
  }
  return out;
}
