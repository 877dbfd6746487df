/**
 * The per-run exclusive lock: `runs/<id>/lock`, created with O_EXCL and
 * holding the owner's pid and process start time. A lock whose owner is gone
 * (crash, kill -9) is stale and taken over; a live owner means refusal.
 */
import { join } from "node:path";
import { RunRefusedError } from "./errors.ts";
import { runDir } from "./paths.ts";
import { liveProcessStart } from "./proc_stat.ts";
import { runStoreBackend } from "./replica.ts";

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

/** Takes the lock of the run whose directory is `dir`. */
export async function acquireRunLock(dir: string, runId: string): Promise<RunLock> {
  const path = join(dir, "lock");
  const me = { pid: Deno.pid, start: liveProcessStart(Deno.pid) };
  // The owner is written to a private file first and linked into place, so
  // the lock is never seen empty: an empty lock read as "owner died" let a
  // second process started at the same moment take over a live lock.
  const mine = `${path}.${Deno.pid}.${crypto.randomUUID()}`;
  await Deno.writeTextFile(mine, JSON.stringify(me), { mode: 0o600 });
  try {
    return await linkLock(mine, path, runId, me);
  } finally {
    await Deno.remove(mine).catch(() => {});
  }
}

async function linkLock(
  mine: string,
  path: string,
  runId: string,
  me: { pid: number; start?: string },
): Promise<RunLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await Deno.link(mine, path);
      return {
        release: async () => {
          await Deno.remove(path).catch(() => {});
        },
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    let text = "";
    let owner: { pid?: number; start?: string } = {};
    try {
      text = await Deno.readTextFile(path);
      owner = JSON.parse(text);
    } catch {
      // Unreadable: a lock written by an older kiln that died mid-write; stale.
    }
    if (typeof owner.pid === "number" && owner.pid !== me.pid) {
      // A zombie counts as gone: a kiln killed with `kill -9` stays one until its
      // parent reaps it, and a resume started in that moment must not be refused.
      const start = liveProcessStart(owner.pid);
      if (start !== undefined && start === owner.start) throw new RunLockedError(runId, owner.pid);
    } else if (owner.pid === me.pid) {
      throw new RunLockedError(runId, owner.pid);
    }
    await removeStale(path, text, runId);
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * Takes a dead owner's lock away. Two processes may judge the same lock
 * stale at once: the rename moves whatever lies there *now*, and if that is
 * no longer the stale lock (the other one already replaced it with its own
 * live lock), it is put back and this process stands down.
 */
async function removeStale(path: string, staleText: string, runId: string): Promise<void> {
  const grabbed = `${path}.stale.${crypto.randomUUID()}`;
  try {
    await Deno.rename(path, grabbed);
  } catch {
    return; // Already gone: try to link again.
  }
  const now = await Deno.readTextFile(grabbed).catch(() => "");
  if (now !== staleText) {
    await Deno.link(grabbed, path).catch(() => {});
    await Deno.remove(grabbed).catch(() => {});
    let pid = 0;
    try {
      pid = JSON.parse(now).pid;
    } catch {
      // Unknown owner.
    }
    throw new RunLockedError(runId, pid);
  }
  await Deno.remove(grabbed).catch(() => {});
}

/**
 * Locks run `runId` under `home` for a command that continues it (resume,
 * cleanup); refuses with RunRefusedError when there is no such run. With a
 * shared store, the run's lease is taken too and its local copy brought up
 * to date from the store (`full`: every record, for a caller that reads them
 * all); releasing the lock gives the lease back.
 */
export async function lockExistingRun(
  runId: string,
  home: string,
  options: { full?: boolean } = {},
): Promise<{ dir: string; lock: RunLock }> {
  const dir = runDir(runId, home);
  const store = runStoreBackend();
  if (store) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const local = await acquireRunLock(dir, runId);
    let releaseLease: () => Promise<void>;
    try {
      releaseLease = await store.claim(runId, home, options);
    } catch (err) {
      await local.release();
      throw err;
    }
    return {
      dir,
      lock: {
        release: async () => {
          await releaseLease().catch(() => {});
          await local.release();
        },
      },
    };
  }
  try {
    await Deno.stat(join(dir, "events.jsonl"));
  } catch {
    throw new RunRefusedError(`no run ${runId} under ${home}`);
  }
  return { dir, lock: await acquireRunLock(dir, runId) };
}
