/**
 * Whole runs on fake components: parallel builds in one log, every
 * -on-error mode, redrive after abort, cleanup, and replay reproducing the
 * live output.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type BuildOptions, resumeRun, runBuild } from "../../runtime/run_build.ts";
import { cleanupRun } from "../../runtime/cleanup.ts";
import { readEventLog } from "../../runtime/log_reader.ts";
import { foldRun, liveResources } from "../../runtime/fold.ts";
import { replayRun } from "../../runtime/replay.ts";
import { RunRefusedError } from "../../runtime/errors.ts";
import type { EventRecord } from "../../runtime/events.ts";
import { fakePlugins, fakeTemplate, type FakeTemplateOptions } from "./support/fakes.ts";
import { exists } from "../../runtime/fs.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { kilnComponents } from "../../components.ts";

function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  return withTempDir(fn, "kiln-build-");
}

async function counter(root: string): Promise<string[]> {
  return await Deno.readTextFile(join(root, "counter.txt")).then(
    (t) => t.trimEnd().split("\n"),
    () => [],
  );
}

function run(
  root: string,
  o: Partial<FakeTemplateOptions>,
  extra: Partial<BuildOptions> = {},
) {
  return runBuild(fakeTemplate({ root, ...o }), {
    home: join(root, "home"),
    components: kilnComponents,
    plugins: fakePlugins,
    output: false,
    ...extra,
  });
}

Deno.test("parallel builds share one verified log; -parallel-builds=1 serialises them", async () => {
  await withRoot(async (root) => {
    const events: EventRecord[] = [];
    const r = await run(root, { builds: ["a", "b", "c"] }, { onEvent: (e) => events.push(e) });
    assert.equal(r.status, "succeeded");
    const { records } = await readEventLog(r.logFile);
    assert.deepEqual(records, events);
    const state = foldRun(records);
    for (const b of ["a", "b", "c"]) {
      assert.equal(state.builds[b].status, "succeeded");
      assert.ok(await exists(join(root, `${b}.img.copy`)));
    }
    // Unlimited: the builds overlap in the log.
    const firstFinish = records.findIndex((e) => e.type === "BuildFinished");
    const starts = records.filter((e) => e.type === "BuildStarted").map((e) => e.seq);
    assert.ok(starts.every((s) => s < records[firstFinish].seq));
  });
  await withRoot(async (root) => {
    const r = await run(root, { builds: ["a", "b"] }, { parallelBuilds: 1 });
    const { records } = await readEventLog(r.logFile);
    const aDone = records.find((e) => e.type === "BuildFinished" && e.build === "a")!.seq;
    const bStart = records.find((e) => e.type === "BuildStarted" && e.build === "b")!.seq;
    assert.ok(aDone < bStart);
  });
});

Deno.test("-on-error=cleanup: error-cleanup-provisioner runs, then resources are deleted in reverse", async () => {
  await withRoot(async (root) => {
    const r = await run(root, { failFlag: join(root, "counter.txt"), errorCleanup: true });
    assert.equal(r.status, "failed");
    assert.match(r.builds[0].error!, /counter p1 failed on purpose/);
    assert.deepEqual(await counter(root), ["alpha:p0", "alpha:cleanup"]);
    assert.ok(!(await exists(join(root, "alpha-disk.res"))));
    assert.ok(!(await exists(join(root, "alpha-scratch.res"))));
    const { records } = await readEventLog(r.logFile);
    const deleted = records.filter((e) => e.type === "ResourceDeleted").map((e) => e.data.id);
    assert.deepEqual(deleted, [join(root, "alpha-scratch.res"), join(root, "alpha-disk.res")]);
  });
});

Deno.test("a failing builder step (not provisioning) never runs the error-cleanup-provisioner", async () => {
  await withRoot(async (root) => {
    const r = await run(root, { failAt: "fake.image", errorCleanup: true });
    assert.equal(r.status, "failed");
    assert.deepEqual(await counter(root), ["alpha:p0", "alpha:p1"]);
  });
});

Deno.test("-on-error=abort leaves resources in the ledger; resume redrives from the failed step", async () => {
  await withRoot(async (root) => {
    const flag = join(root, "fail");
    await Deno.writeTextFile(flag, "");
    const r = await run(root, { failFlag: flag, errorCleanup: true }, { onError: "abort" });
    assert.equal(r.status, "failed");
    assert.ok(r.builds[0].aborted);
    assert.ok(await exists(join(root, "alpha-disk.res")));
    const state = foldRun((await readEventLog(r.logFile)).records);
    assert.equal(liveResources(state.builds.alpha).length, 2);
    assert.deepEqual(await counter(root), ["alpha:p0"]);
    await Deno.remove(flag);
    const again = await resumeRun(
      r.runId,
      fakeTemplate({ root, failFlag: flag, errorCleanup: true }),
      {
        home: join(root, "home"),
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      },
    );
    assert.equal(again.status, "succeeded");
    // p0 succeeded before the abort: it did not run again.
    assert.deepEqual(await counter(root), ["alpha:p0", "alpha:p1"]);
    await assert.rejects(
      resumeRun(r.runId, fakeTemplate({ root }), {
        home: join(root, "home"),
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      }),
      /already succeeded/,
    );
  });
});

Deno.test("-on-error=abort then `cleanup` deletes what was left, and resume starts over", async () => {
  await withRoot(async (root) => {
    const flag = join(root, "fail");
    await Deno.writeTextFile(flag, "");
    const r = await run(root, { failFlag: flag }, { onError: "abort" });
    const home = join(root, "home");
    const c = await cleanupRun(r.runId, {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
    });
    assert.equal(c.deleted.length, 2);
    assert.ok(!(await exists(join(root, "alpha-disk.res"))));
    // Cleanup is idempotent.
    const c2 = await cleanupRun(r.runId, {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
    });
    assert.equal(c2.deleted.length, 0);
    await Deno.remove(flag);
    const again = await resumeRun(r.runId, fakeTemplate({ root, failFlag: flag }), {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
    });
    assert.equal(again.status, "succeeded");
    assert.deepEqual(await counter(root), ["alpha:p0", "alpha:p0", "alpha:p1"]);
  });
});

Deno.test("-on-error=run-cleanup-provisioner: cleanup provisioner, then abort", async () => {
  await withRoot(async (root) => {
    const r = await run(root, { failFlag: join(root, "counter.txt"), errorCleanup: true }, {
      onError: "run-cleanup-provisioner",
    });
    assert.equal(r.status, "failed");
    assert.deepEqual(await counter(root), ["alpha:p0", "alpha:cleanup"]);
    assert.ok(await exists(join(root, "alpha-disk.res")));
  });
});

Deno.test("-on-error=ask: [r] retries the failed provisioner only, [c] cleans up, [a] aborts", async () => {
  await withRoot(async (root) => {
    const flag = join(root, "fail");
    await Deno.writeTextFile(flag, "");
    const questions: string[] = [];
    const r = await run(root, { failFlag: flag }, {
      onError: "ask",
      ask: async (q) => {
        questions.push(q);
        await Deno.remove(flag);
        return "r\n";
      },
    });
    assert.equal(r.status, "succeeded");
    assert.equal(questions.length, 1);
    assert.match(
      questions[0],
      /\[c\] Clean up and exit, \[a\] abort without cleanup, or \[r\] retry/,
    );
    assert.deepEqual(await counter(root), ["alpha:p0", "alpha:p1"]);
  });
  for (const [answer, left] of [["c", false], ["a", true]] as const) {
    await withRoot(async (root) => {
      const r = await run(root, { failFlag: join(root, "counter.txt") }, {
        onError: "ask",
        ask: () => Promise.resolve(answer),
      });
      assert.equal(r.status, "failed");
      assert.equal(await exists(join(root, "alpha-disk.res")), left);
    });
  }
});

Deno.test("resume refuses a changed template unless forced", async () => {
  await withRoot(async (root) => {
    const flag = join(root, "fail");
    await Deno.writeTextFile(flag, "");
    const r = await run(root, { failFlag: flag }, { onError: "abort" });
    const opts = {
      home: join(root, "home"),
      components: kilnComponents,
      plugins: fakePlugins,
      output: false as const,
    };
    const changed = fakeTemplate({ root, failFlag: flag, digest: "e".repeat(64) });
    await assert.rejects(
      resumeRun(r.runId, changed, opts),
      (err: unknown) =>
        err instanceof RunRefusedError && /template changed.*--force/.test(err.message),
    );
    await Deno.remove(flag);
    const forced = await resumeRun(r.runId, changed, { ...opts, forceResume: true });
    assert.equal(forced.status, "succeeded");
  });
});

Deno.test("replay renders exactly the live output and verifies the chain", async () => {
  await withRoot(async (root) => {
    let live = "";
    const r = await run(root, { builds: ["a", "b"] }, {
      output: (t) => live += t,
      progress: false,
      color: false,
    });
    const replay = await replayRun(r.runId, { home: join(root, "home") });
    assert.ok(replay.verified);
    const banner = live.lastIndexOf("\n==> Run ");
    assert.equal(replay.lines.join("\n") + "\n", live.slice(0, banner));
    assert.match(
      live,
      /==> Builds finished\. The artifacts of successful builds are:\n--> a: copies/,
    );
    const machine = await replayRun(r.runId, { home: join(root, "home"), machineReadable: true });
    assert.ok(machine.lines.some((l) => /^\d+,a,artifact,0,builder-id,kiln\.copy$/.test(l)));
    assert.ok(
      machine.lines.some((l) => /^\d+,,ui,say,==> a: Running post-processor: fake-copy$/.test(l)),
    );
  });
});

Deno.test("provisioner options: pause_before, max_retries and timeout", async () => {
  await withRoot(async (root) => {
    const flag = join(root, "fail");
    await Deno.writeTextFile(flag, "");
    const prepared = fakeTemplate({ root, provisioners: 1, failFlag: flag });
    const p = prepared.builds[0].provisioners[0];
    Object.assign(p, { pauseBefore: 30, maxRetries: 2, config: { ...p.config, fail_once: true } });
    let out = "";
    const r = await runBuild(prepared, {
      home: join(root, "home"),
      components: kilnComponents,
      plugins: fakePlugins,
      output: (t) => out += t,
      color: false,
      progress: false,
    });
    assert.equal(r.status, "succeeded");
    assert.match(out, /==> alpha: Pausing 30 milliseconds before the next provisioner\.\.\./);
    assert.match(
      out,
      /Provisioner failed with "counter p0 failed on purpose", retrying with 2 trie\(s\) left/,
    );
    assert.deepEqual(await counter(root), ["alpha:p0"]);
  });
  await withRoot(async (root) => {
    const prepared = fakeTemplate({ root, provisioners: 1, sleep: true });
    prepared.builds[0].provisioners[0].timeout = 100;
    const r = await runBuild(prepared, {
      home: join(root, "home"),
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
    });
    assert.equal(r.status, "failed");
    assert.match(r.builds[0].error!, /provisioner timed out after 100 milliseconds/);
  });
});

Deno.test("a library caller cancels a run through its AbortSignal", async () => {
  await withRoot(async (root) => {
    const controller = new AbortController();
    const started = join(root, "started");
    const watcher = (async () => {
      while (!(await exists(started))) await new Promise((r) => setTimeout(r, 10));
      controller.abort();
    })();
    const r = await run(root, { sleep: true }, { signal: controller.signal });
    await watcher;
    assert.equal(r.status, "cancelled");
    assert.equal(r.builds[0].status, "cancelled");
    assert.ok(!(await exists(join(root, "alpha-disk.res"))));
  });
});
