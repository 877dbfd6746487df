/**
 * Crashes the seal must survive, and the snapshots resume reads from:
 * killed after a durable record reached the disk but before the seal moved
 * to it (the record carries the run's MAC, so it counts), and resumed from a
 * sealed snapshot instead of the whole log — with the same result as an
 * uninterrupted run. A damaged or foreign snapshot is ignored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resumeRun } from "../../runtime/run_build.ts";
import { cleanupRun } from "../../runtime/cleanup.ts";
import { eventsPath, runDir } from "../../runtime/paths.ts";
import { isDurable } from "../../runtime/events.ts";
import { readRun } from "../../runtime/run_reader.ts";
import { snapshotsDir } from "../../runtime/snapshot.ts";
import { sealHome } from "../../runtime/seal.ts";
import { fakePlugins, fakeTemplate } from "./support/fakes.ts";
import { child, foldOf, liveLedger, RUN_ID, snapshot } from "./support/helpers.ts";
import { kilnComponents } from "../../components.ts";

const SKIP = ["counter.txt"];

async function counterLines(root: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(root, "counter.txt")).catch(() => "");
  return text.split("\n").filter((l) => l !== "").sort();
}

async function referenceRun(): Promise<{ types: string[]; files: Record<string, string> }> {
  const root = await Deno.makeTempDir({ prefix: "kiln-sealref-" });
  try {
    const out = await child("run", root);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const log = await Deno.readTextFile(eventsPath(RUN_ID, join(root, "home")));
    const types = log.trimEnd().split("\n").map((l) => JSON.parse(l).type as string);
    return { types, files: await snapshot(root, SKIP) };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("killed between a durable record and its seal: resume keeps it and runs nothing twice", async () => {
  const ref = await referenceRun();
  const durable = ref.types.map((t, i) => isDurable(t) ? i + 1 : 0).filter((k) => k > 0);
  assert.ok(durable.length > 10);
  for (const k of durable.slice(0, -1)) {
    const root = await Deno.makeTempDir({ prefix: `kiln-unsealed-${k}-` });
    try {
      const killed = await child("run", root, { KILN_CRASH_BEFORE_SEAL: String(k) });
      assert.equal(killed.signal, "SIGKILL", `not killed before sealing event ${k}`);
      const home = join(root, "home");
      const read = readRun(RUN_ID, home, {});
      assert.ok(read.last.seq >= k, `event ${k} is kept`);
      assert.equal(read.seal!.point.seq < k, true, `event ${k} was not sealed`);
      assert.ok(read.unsealed >= 1);
      const r = await resumeRun(RUN_ID, fakeTemplate({ root }), {
        home,
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      });
      assert.equal(r.status, "succeeded", `resume after an unsealed event ${k}`);
      assert.deepEqual(await snapshot(root, SKIP), ref.files, `artifacts, unsealed ${k}`);
      assert.deepEqual(await counterLines(root), ["alpha:p0", "alpha:p1"], `provisioners, ${k}`);
      const live = liveLedger(await foldOf(root));
      assert.deepEqual(live.filter((e) => e.temporary), [], `temporary left at ${k}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("killed between a durable record and its seal: cleanup leaves nothing", async () => {
  const ref = await referenceRun();
  const durable = ref.types.map((t, i) => isDurable(t) ? i + 1 : 0).filter((k) => k > 0);
  for (const k of durable.slice(0, -1)) {
    const root = await Deno.makeTempDir({ prefix: `kiln-unsealedc-${k}-` });
    try {
      await child("run", root, { KILN_CRASH_BEFORE_SEAL: String(k) });
      const home = join(root, "home");
      const r = await cleanupRun(RUN_ID, {
        home,
        prepared: fakeTemplate({ root }),
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      });
      assert.deepEqual(r.failed, [], `cleanup after unsealed ${k}`);
      const state = await foldOf(root);
      const succeeded = state.builds.alpha?.status === "succeeded";
      const files = Object.keys(await snapshot(root, SKIP)).filter((f) => f.endsWith(".res"));
      // A build that had finished keeps its result; anything else leaves nothing.
      assert.deepEqual(files, succeeded ? ["alpha-disk.res"] : [], `left after unsealed ${k}`);
      assert.deepEqual(liveLedger(state).filter((e) => e.temporary), [], `temporary, ${k}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("resume reads from the newest sealed snapshot; the result equals a full fold", async () => {
  const ref = await referenceRun();
  for (const k of [8, 15, 22]) {
    const root = await Deno.makeTempDir({ prefix: `kiln-snap-${k}-` });
    try {
      const env = { KILN_SNAPSHOT_EVERY: "5", KILN_CRASH_AT_SEQ: String(k) };
      const killed = await child("run", root, env);
      assert.equal(killed.signal, "SIGKILL");
      const home = join(root, "home");
      const fromSnapshot = readRun(RUN_ID, home, {});
      const full = readRun(RUN_ID, home, { full: true });
      assert.ok(fromSnapshot.snapshotSeq > 0 && fromSnapshot.snapshotSeq <= k, `snapshot at ${k}`);
      assert.equal(full.snapshotSeq, 0);
      const json = (v: unknown) => JSON.parse(JSON.stringify(v));
      assert.deepEqual(json(fromSnapshot.state), json(full.state), `snapshot fold differs at ${k}`);
      assert.deepEqual(fromSnapshot.last, full.last);
      // A damaged snapshot is ignored, never trusted: same state from an older one or the log.
      const dir = snapshotsDir(runDir(RUN_ID, home));
      for (const name of await Array.fromAsync(Deno.readDir(dir), (e) => e.name)) {
        const file = join(dir, name);
        const [mac, body] = (await Deno.readTextFile(file)).split("\n");
        const snap = JSON.parse(body);
        snap.state.template = "forged.json";
        await Deno.writeTextFile(file, `${mac}\n${JSON.stringify(snap)}`);
      }
      const damaged = readRun(RUN_ID, home, {});
      assert.equal(damaged.snapshotSeq, 0, "a snapshot with a bad MAC was used");
      assert.deepEqual(json(damaged.state), json(full.state));
      const r = await resumeRun(RUN_ID, fakeTemplate({ root }), {
        home,
        components: kilnComponents,
        plugins: fakePlugins,
        output: false,
      });
      assert.equal(r.status, "succeeded");
      assert.deepEqual(await snapshot(root, SKIP), ref.files);
      assert.deepEqual(await counterLines(root), ["alpha:p0", "alpha:p1"]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("a torn seal slot falls back to the other, older seal", async () => {
  const root = await Deno.makeTempDir({ prefix: "kiln-tornseal-" });
  try {
    const out = await child("run", root);
    assert.equal(out.code, 0);
    const home = join(root, "home");
    const before = readRun(RUN_ID, home, {});
    const sealId = await Deno.readTextFile(join(runDir(RUN_ID, home), "seal.id"));
    const sealFile = join(sealHome(), `${RUN_ID}-${sealId}`, "seal");
    const bytes = await Deno.readFile(sealFile);
    // The newest slot is the one with the higher seq; tear it.
    const slots = [0, 1].map((i) =>
      JSON.parse(new TextDecoder().decode(bytes.subarray(i * 512, i * 512 + 511)))
    );
    const newest = slots[0].seq > slots[1].seq ? 0 : 1;
    bytes.fill(0x20, newest * 512 + 40, newest * 512 + 200);
    await Deno.writeFile(sealFile, bytes);
    const after = readRun(RUN_ID, home, {});
    assert.equal(after.seal!.point.seq, slots[1 - newest].seq);
    assert.ok(after.seal!.point.seq < before.seal!.point.seq);
    // Records after the older seal are non-durable output or dropped, never trusted blindly.
    assert.ok(after.last.seq <= before.last.seq);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
