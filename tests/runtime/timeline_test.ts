/**
 * The timeline's reading of cases the CLI test cannot provoke cheaply: a
 * step retried in the same process (-on-error=ask) is a retry, a step run
 * again by `--resume` is not; the dead process's bars end at its own last
 * record even when the resuming process logged before RunResumed; a run a
 * live process still drives has running bars, not interrupted ones.
 */
import assert from "node:assert/strict";
import type { EventRecord } from "../../runtime/events.ts";
import { TimelineBuilder } from "../../runtime/timeline.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");

/** Records at the given offsets (ms) from T0. */
function records(
  list: [number, string | null, string | null, string, Record<string, unknown>?][],
): EventRecord[] {
  return list.map(([ms, build, step, type, data = {}], i) => ({
    seq: i + 1,
    ts: new Date(T0 + ms).toISOString(),
    run: "20260101T000000Z-abcdef",
    build,
    step,
    type,
    data,
    prev: "",
    hash: "",
  }));
}

function timelineOf(recs: EventRecord[], running = false) {
  const b = new TimelineBuilder("20260101T000000Z-abcdef");
  for (const r of recs) b.add(r);
  return b.finish({ running });
}

Deno.test("timeline: a retry in the same drive is a retry; a re-run after --resume is not", () => {
  const t = timelineOf(records([
    [0, null, null, "RunStarted", { builds: ["a"], template: "t.json" }],
    [10, "a", null, "BuildStarted", { type: "null" }],
    [20, "a", "s1", "StepStarted"],
    [50, "a", "s1", "StepFailed", { error: "boom <sensitive:3>" }],
    [60, "a", "s1", "StepStarted"],
    [90, "a", "s1", "StepSucceeded"],
    [100, "a", "s2", "StepStarted"],
    [200, "a", null, "Ui", { message: "still going" }],
    // Killed. The resuming process says hello before its RunResumed.
    [5000, null, null, "Ui", { message: "Resuming run" }],
    [5010, null, null, "RunResumed", { from: 8 }],
    [5020, "a", "s2", "StepStarted", { resumed: true }],
    [5100, "a", "s2", "StepSucceeded"],
    [5110, "a", null, "BuildFinished", { status: "succeeded" }],
    [5120, null, null, "RunFinished", { status: "succeeded" }],
  ]));
  assert.deepEqual(t.drives.map((d) => [d.kind, d.start - T0, d.end - T0, d.cut]), [
    ["build", 0, 200, true],
    ["resume", 5010, 5120, false],
  ]);
  const bars = t.lanes[0].bars.map((b) => [b.label, b.status, b.attempt, b.drive, b.end - T0]);
  assert.deepEqual(bars, [
    ["s1", "failed", 1, 0, 50],
    ["s1", "succeeded", 2, 0, 90],
    ["s2", "interrupted", 1, 0, 200],
    ["s2", "succeeded", 2, 1, 5100],
  ]);
  assert.equal(t.lanes[0].bars[0].error, "boom <sensitive>", "secret references stay masked");
  const retries = t.lanes[0].markers.filter((m) => m.kind === "retry").map((m) => m.label);
  assert.deepEqual(retries, ["s1 attempt 2"]);
});

Deno.test("timeline: a run still driven has running bars; provisioner retries close and reopen", () => {
  const t = timelineOf(
    records([
      [0, null, null, "RunStarted", { builds: ["a"] }],
      [10, "a", "p", "StepStarted"],
      [20, "a", "p", "ProvisionerStarted", { index: 0, type: "shell" }],
      [30, "a", "p", "ProvisionerRetrying", { index: 0, type: "shell", attempt: 1, error: "x" }],
      [40, "a", "p", "ResourceCreated", { kind: "k", id: "i" }],
    ]),
    true,
  );
  const bars = t.lanes[0].bars.map((b) => [b.kind, b.status, b.attempt]);
  assert.deepEqual(bars, [
    ["step", "running", 1],
    ["provisioner", "failed", 1],
    ["provisioner", "running", 2],
  ]);
  assert.deepEqual(t.lanes[0].markers.map((m) => m.kind), ["retry", "created"]);
  assert.equal(t.drives[0].cut, true, "no RunFinished yet");
});
