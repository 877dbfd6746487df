/** The per-run lock: a second driver of the same run is refused; a dead owner's lock is taken over. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireRunLock, RunLockedError } from "../../runtime/lock.ts";
import { resumeRun } from "../../runtime/run_build.ts";
import { fakePlugins, fakeTemplate } from "./support/fakes.ts";
import { child, RUN_ID } from "./support/helpers.ts";

async function startTime(pid: number): Promise<string> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

Deno.test("a run driven by a live process is refused; a dead owner's lock is stale", async () => {
  const root = await Deno.makeTempDir();
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const failed = await child("run", root, {}, { failFlag: join(root, "counter.txt") });
    assert.equal(failed.code, 1);
    const dir = join(root, "home", "runs", RUN_ID);
    // Another live process owns the run.
    await Deno.writeTextFile(
      join(dir, "lock"),
      JSON.stringify({ pid: sleeper.pid, start: await startTime(sleeper.pid) }),
    );
    await assert.rejects(
      resumeRun(RUN_ID, fakeTemplate({ root }), {
        home: join(root, "home"),
        plugins: fakePlugins,
        output: false,
      }),
      (err: unknown) => err instanceof RunLockedError && err.message.includes(`pid ${sleeper.pid}`),
    );
    // The owner dies (kill -9): its lock no longer counts.
    sleeper.kill("SIGKILL");
    await sleeper.status;
    const lock = await acquireRunLock(dir, RUN_ID);
    await assert.rejects(acquireRunLock(dir, RUN_ID), RunLockedError);
    await lock.release();
    (await acquireRunLock(dir, RUN_ID)).release();
  } finally {
    try {
      sleeper.kill("SIGKILL");
      await sleeper.status;
    } catch { /* already gone */ }
    await Deno.remove(root, { recursive: true });
  }
});
