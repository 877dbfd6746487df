/**
 * The per-run exclusive lock: `runs/<id>/lock`, created with O_EXCL and
 * holding the owner's pid and process start time. A lock whose owner is gone
 * (crash, kill -9) is stale and taken over; a live owner means refusal.
 */
import { join } from "node:path";
import { RunRefusedError } from "./errors.ts";
import { runDir } from "./paths.ts";

/** Raised when another live process drives the run. */
export class RunLockedError extends Error {
  constructor(runId: string, pid: number) {
    super(
      `run ${runId} is being driven by another kiln process (pid ${pid}); refusing to touch it`,
    );
    this.name = "RunLockedError";
  }
}

/** A held lock. */
export interface RunLock {
  release(): Promise<void>;
}

async function processStart(pid: number): Promise<string | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Field 22 (starttime) follows the parenthesised command name.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Takes the lock of the run whose directory is `dir`. */
export async function acquireRunLock(dir: string, runId: string): Promise<RunLock> {
  const path = join(dir, "lock");
  const me = { pid: Deno.pid, start: await processStart(Deno.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
      await fd.write(new TextEncoder().encode(JSON.stringify(me)));
      fd.close();
      return {
        release: async () => {
          await Deno.remove(path).catch(() => {});
        },
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    let owner: { pid?: number; start?: string } = {};
    try {
      owner = JSON.parse(await Deno.readTextFile(path));
    } catch {
      // Owner died between create and write: the file is stale.
    }
    if (typeof owner.pid === "number" && owner.pid !== Deno.pid) {
      const start = await processStart(owner.pid);
      if (start !== undefined && start === owner.start) throw new RunLockedError(runId, owner.pid);
    } else if (owner.pid === Deno.pid) {
      throw new RunLockedError(runId, owner.pid);
    }
    await Deno.remove(path).catch(() => {});
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * Locks run `runId` under `home` for a command that continues it (resume,
 * cleanup); refuses with RunRefusedError when there is no such run.
 */
export async function lockExistingRun(
  runId: string,
  home: string,
): Promise<{ dir: string; lock: RunLock }> {
  const dir = runDir(runId, home);
  try {
    await Deno.stat(join(dir, "events.jsonl"));
  } catch {
    throw new RunRefusedError(`no run ${runId} under ${home}`);
  }
  return { dir, lock: await acquireRunLock(dir, runId) };
}
