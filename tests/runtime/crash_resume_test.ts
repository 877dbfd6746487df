/**
 * The acceptance test: kill a real build process with SIGKILL right after
 * every event of an example run, then resume (or clean up) from the log.
 * Resume must end with the same artifacts as an uninterrupted run, and the
 * counter file proves no completed provisioner ever ran twice. Cleanup must
 * leave no resource behind. Truncated and corrupted logs resume correctly or
 * are refused clearly.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resumeRun } from "../../runtime/run_build.ts";
import { cleanupRun } from "../../runtime/cleanup.ts";
import { eventsPath } from "../../runtime/paths.ts";
import { EventLogError } from "../../runtime/log_reader.ts";
import { RunRefusedError } from "../../runtime/errors.ts";
import { fakePlugins, fakeTemplate, SENTINEL } from "./support/fakes.ts";
import { allBytes, child, foldOf, liveLedger, RUN_ID, snapshot } from "./support/helpers.ts";
import { kilnComponents } from "../../components.ts";

const SKIP = ["counter.txt"];

/** The child died of the SIGKILL at event `k`; if not, what it said instead. */
function assertKilled(killed: Deno.CommandOutput, k: number): void {
  const dec = new TextDecoder();
  assert.equal(
    killed.signal,
    "SIGKILL",
    `run was not killed at event ${k} (exit ${killed.code}): ${
      dec.decode(killed.stdout).slice(-1500) + dec.decode(killed.stderr).slice(-1500)
    }`,
  );
}

async function reference(): Promise<
  { root: string; events: number; files: Record<string, string>; counter: string[] }
> {
  const root = await Deno.makeTempDir({ prefix: "kiln-ref-" });
  const out = await child("run", root);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const log = await Deno.readTextFile(eventsPath(RUN_ID, join(root, "home")));
  return {
    root,
    events: log.trimEnd().split("\n").length,
    files: await snapshot(root, SKIP),
    counter: (await Deno.readTextFile(join(root, "counter.txt"))).trimEnd().split("\n").sort(),
  };
}

async function counterLines(root: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(join(root, "counter.txt"))).trimEnd().split("\n").filter(
      (l) => l !== "",
    ).sort();
  } catch {
    return [];
  }
}

Deno.test("SIGKILL after every event, then resume: same artifacts, no provisioner re-run", async () => {
  const ref = await reference();
  try {
    assert.ok(ref.events > 20, `example run has ${ref.events} events`);
    assert.deepEqual(ref.counter, ["alpha:p0", "alpha:p1"]);
    for (let k = 1; k < ref.events; k++) {
      const root = await Deno.makeTempDir({ prefix: `kiln-crash-${k}-` });
      try {
        const killed = await child("run", root, { KILN_CRASH_AT_SEQ: String(k) });
        assertKilled(killed, k);
        const before = await counterLines(root);
        assert.equal(new Set(before).size, before.length, `duplicate before resume at ${k}`);
        const r = await resumeRun(RUN_ID, fakeTemplate({ root }), {
          home: join(root, "home"),
          components: kilnComponents,
          plugins: fakePlugins,
          output: false,
        });
        assert.equal(r.status, "succeeded", `resume after event ${k}`);
        assert.deepEqual(await snapshot(root, SKIP), ref.files, `artifacts after crash at ${k}`);
        assert.deepEqual(await counterLines(root), ref.counter, `provisioners after crash at ${k}`);
        const live = liveLedger(await foldOf(root));
        assert.deepEqual(live.filter((e) => e.temporary), [], `temporary left at ${k}`);
        assert.ok(!(await allBytes(join(root, "home"))).includes(SENTINEL), "secret on disk");
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(ref.root, { recursive: true });
  }
});

Deno.test("SIGKILL after every event, then cleanup: no resource left behind", async () => {
  const ref = await reference();
  await Deno.remove(ref.root, { recursive: true });
  for (let k = 1; k < ref.events; k++) {
    const root = await Deno.makeTempDir({ prefix: `kiln-clean-${k}-` });
    try {
      const killed = await child("run", root, { KILN_CRASH_AT_SEQ: String(k) });
      assertKilled(killed, k);
      const result = await cleanupRun(RUN_ID, {
        home: join(root, "home"),
        prepared: fakeTemplate({ root }),
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      });
      assert.deepEqual(result.failed, []);
      const state = await foldOf(root);
      const live = liveLedger(state);
      // Only the result of a build that had finished successfully may stay.
      for (const e of live) {
        assert.equal(
          state.builds[e.build].status,
          "succeeded",
          `live ${e.id} after cleanup at ${k}`,
        );
        assert.equal(e.temporary, false);
      }
      // Resources and the post-processor's copies: both are ledger entries.
      const files = Object.keys(await snapshot(root, SKIP)).filter((f) =>
        f.endsWith(".res") || f.endsWith(".copy")
      );
      const expected = live.map((e) => e.id.slice(root.length + 1)).sort();
      assert.deepEqual(files.sort(), expected, `orphaned resources after cleanup at ${k}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("SIGKILL after every event of a failing run, then resume: undone once, nothing re-run", async () => {
  const failing = { errorCleanup: true, failFlag: "FAIL" };
  const ref = await Deno.makeTempDir({ prefix: "kiln-fref-" });
  let events = 0;
  try {
    await Deno.writeTextFile(join(ref, "FAIL"), "");
    const out = await child("run", ref, {}, { ...failing, failFlag: join(ref, "FAIL") });
    assert.equal(out.code, 1);
    events =
      (await Deno.readTextFile(eventsPath(RUN_ID, join(ref, "home")))).trimEnd().split("\n").length;
    assert.deepEqual(await counterLines(ref), ["alpha:cleanup", "alpha:p0"]);
  } finally {
    await Deno.remove(ref, { recursive: true });
  }
  for (let k = 1; k < events; k++) {
    const root = await Deno.makeTempDir({ prefix: `kiln-fcrash-${k}-` });
    try {
      await Deno.writeTextFile(join(root, "FAIL"), "");
      const opts = { ...failing, failFlag: join(root, "FAIL") };
      const killed = await child("run", root, { KILN_CRASH_AT_SEQ: String(k) }, opts);
      assertKilled(killed, k);
      const r = await resumeRun(RUN_ID, fakeTemplate({ root, ...opts }), {
        home: join(root, "home"),
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      });
      assert.equal(r.status, "failed", `resume after event ${k}`);
      assert.deepEqual(await counterLines(root), ["alpha:cleanup", "alpha:p0"], `after ${k}`);
      assert.deepEqual(liveLedger(await foldOf(root)), [], `resources left after ${k}`);
      const left = Object.keys(await snapshot(root, SKIP)).filter((f) => f.endsWith(".res"));
      assert.deepEqual(left, [], `orphaned files after ${k}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("truncated or corrupted logs: resume proceeds correctly or refuses clearly", async () => {
  const ref = await reference();
  try {
    const log = await Deno.readFile(eventsPath(RUN_ID, join(ref.root, "home")));
    // Deterministic pseudo-random offsets (no flaky seeds).
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % log.length;
    for (let i = 0; i < 16; i++) {
      const offset = next();
      const corrupt = i % 2 === 1;
      const root = await Deno.makeTempDir({ prefix: "kiln-trunc-" });
      try {
        // Rebuild the world up to the cut, then damage the log.
        const killed = await child("run", root, { KILN_CRASH_AT_SEQ: "1000000" });
        assert.equal(killed.code, 0);
        const file = eventsPath(RUN_ID, join(root, "home"));
        const bytes = await Deno.readFile(file);
        let damaged: Uint8Array;
        if (corrupt) {
          damaged = bytes.slice();
          damaged[offset] = damaged[offset] === 0x41 ? 0x42 : 0x41;
        } else {
          damaged = bytes.slice(0, offset);
        }
        await Deno.writeFile(file, damaged);
        try {
          const r = await resumeRun(RUN_ID, fakeTemplate({ root }), {
            home: join(root, "home"),
            components: kilnComponents,
            plugins: fakePlugins,
            output: false,
          });
          assert.ok(!corrupt, `a corrupted log (byte ${offset}) was accepted`);
          if (r.status === "succeeded") {
            assert.deepEqual(await snapshot(root, SKIP), ref.files);
          } else {
            // The log forgot effects the world kept: the build fails, saying why.
            assert.ok(r.builds.every((b) => b.status === "succeeded" || b.error));
          }
        } catch (err) {
          assert.ok(
            err instanceof EventLogError || err instanceof RunRefusedError,
            `unexpected ${err}`,
          );
          if (err instanceof EventLogError) {
            const line = damaged.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
            assert.equal(err.line, line, `wrong line for byte ${offset}: ${err.message}`);
          }
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(ref.root, { recursive: true });
  }
});

Deno.test("killed between a create call and its log record: reconcile adopts the resource", async () => {
  const ref = await reference();
  const intent = (await Deno.readTextFile(eventsPath(RUN_ID, join(ref.root, "home")))).split("\n")
    .findIndex((l) => l.includes('"type":"ResourceIntent"')) + 1;
  await Deno.remove(ref.root, { recursive: true });
  assert.ok(intent > 0);
  for (const then of ["resume", "cleanup"] as const) {
    const root = await Deno.makeTempDir({ prefix: `kiln-adopt-${then}-` });
    try {
      const killed = await child("run", root, { KILN_CRASH_AT_SEQ: String(intent) });
      assert.equal(killed.signal, "SIGKILL");
      // The create call had gone through; only its ResourceCreated record was lost.
      await Deno.writeTextFile(join(root, "alpha-disk.res"), `${RUN_ID}\n`);
      const opts = {
        home: join(root, "home"),
        components: kilnComponents,
        plugins: fakePlugins,
        output: false as const,
      };
      if (then === "resume") {
        const r = await resumeRun(RUN_ID, fakeTemplate({ root }), opts);
        assert.equal(r.status, "succeeded");
        const ledger = (await foldOf(root)).builds.alpha.resources.map((e) => e.resource.id);
        assert.deepEqual(ledger, [
          join(root, "alpha-disk.res"),
          join(root, "alpha-scratch.res"),
          join(root, "alpha.img.copy"),
        ]);
        const started = (await foldOf(root)).builds.alpha.steps["fake.disk"];
        assert.equal(started.attempts, 2, "the step was reconciled, not run from scratch");
      } else {
        const c = await cleanupRun(RUN_ID, { ...opts, prepared: fakeTemplate({ root }) });
        assert.deepEqual(c.deleted.map((d) => d.id), [join(root, "alpha-disk.res")]);
        assert.equal(await Deno.stat(join(root, "alpha-disk.res")).then(() => 1, () => 0), 0);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});
