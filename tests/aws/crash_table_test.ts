/**
 * Acceptance of issue 5: kill -9 at every event boundary of an
 * amazon-instance build (and in the middle of RunInstances). To stay fast,
 * `cleanup` runs after every boundary, `--resume` after the boundaries around
 * each side effect (every ResourceIntent / ResourceCreated: where a second
 * launch or a lost resource would come from); `bench/aws_crash_table.ts`
 * runs both at every boundary and prints the table.
 */
import assert from "node:assert/strict";
import { type CrashMode, type KillPoint, referenceBuild, runTrials } from "./crash_table.ts";

Deno.test("amazon-instance: kill -9 at every event boundary, then resume or cleanup", async () => {
  const ref = await referenceBuild();
  assert.ok(ref.events.length > 50, `the reference build logged ${ref.events.length} events`);
  const trials: { point: KillPoint; mode: CrashMode }[] = [
    { point: { mid: "RunInstances" }, mode: "resume" },
    { point: { mid: "RunInstances" }, mode: "cleanup" },
  ];
  // The last event is RunFinished: a kill after it kills nothing.
  for (let seq = 1; seq < ref.events.length; seq++) {
    trials.push({ point: { seq }, mode: "cleanup" });
    if (/ Resource(Intent|Created) /.test(ref.events[seq - 1])) {
      trials.push({ point: { seq }, mode: "resume" });
    }
  }
  const rows = await runTrials(trials, 2);
  const failed = rows.filter((r) => !r.ok);
  assert.deepEqual(
    failed.map((r) => `${r.point} → ${r.mode}: ${r.outcome}`),
    [],
    "every kill point resumes to one launch and one AMI, and cleans up to nothing",
  );
});
