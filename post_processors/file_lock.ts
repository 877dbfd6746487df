/**
 * Serialises read-modify-write of a shared file (the manifest): parallel
 * builds in this process queue on a promise chain, and other processes are
 * kept out by an exclusive `<file>.lock` (Packer's convention: a few short
 * retries, then proceed rather than fail the build over a stale lock).
 */
import { sleep } from "../runtime/sleep.ts";

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock for `path` (an absolute path). */
export function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => withLockFile(`${path}.lock`, fn));
  queues.set(path, run);
  return run.finally(() => {
    if (queues.get(path) === run) queues.delete(path);
  });
}

async function withLockFile<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  let held = false;
  for (let attempt = 0; attempt < 3 && !held; attempt++) {
    if (attempt > 0) await sleep(attempt * 200);
    try {
      (await Deno.open(lock, { createNew: true, write: true })).close();
      held = true;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) break;
    }
  }
  try {
    return await fn();
  } finally {
    if (held) await Deno.remove(lock).catch(() => {});
  }
}
