/** The per-run lock: a second driver of the same run is refused; a dead owner's lock is taken over. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireRunLock, RunLockedError } from "../../runtime/lock.ts";
import { resumeRun } from "../../runtime/run_build.ts";
import { isRunLocked } from "../../runtime/run_store.ts";
import { runDir } from "../../runtime/paths.ts";
import { fakePlugins, fakeTemplate } from "./support/fakes.ts";
import { child, RUN_ID } from "./support/helpers.ts";
import { kilnComponents } from "../../components.ts";

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
        components: kilnComponents,
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

Deno.test("an owner killed with kill -9 and not yet reaped (a zombie) holds no lock", async () => {
  const root = await Deno.makeTempDir();
  // The owner's parent never waits: after kill -9 the owner stays a zombie.
  const parent = new Deno.Command("/bin/sh", {
    args: ["-c", "sleep 30 & echo $!; exec sleep 60"],
    stdout: "piped",
  }).spawn();
  try {
    const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    reader.releaseLock();
    const owner = Number(text.trim());
    const dir = runDir(RUN_ID, root);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      join(dir, "lock"),
      JSON.stringify({ pid: owner, start: await startTime(owner) }),
    );
    await assert.rejects(acquireRunLock(dir, RUN_ID), RunLockedError);
    assert.equal(await isRunLocked(RUN_ID, root), true, "`kiln runs` shows it running");
    Deno.kill(owner, "SIGKILL");
    for (let i = 0; i < 100 && !(await state(owner)).startsWith("Z"); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(await state(owner), /^Z/, "the owner is a zombie");
    assert.equal(await isRunLocked(RUN_ID, root), false, "`kiln runs` still shows it running");
    const lock = await acquireRunLock(dir, RUN_ID);
    await lock.release();
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
    await parent.stdout.cancel().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});

async function state(pid: number): Promise<string> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => ") X");
  return stat.slice(stat.lastIndexOf(")") + 2);
}
