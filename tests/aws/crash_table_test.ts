/**
 * Acceptance of issue 5: kill -9 at every event boundary of an
 * amazon-instance build (and in the middle of RunInstances). To stay fast,
 * `cleanup` runs after every boundary, `--resume` after the boundaries around
 * each side effect (every ResourceIntent / ResourceCreated: where a second
 * launch or a lost resource would come from); `bench/aws_crash_table.ts`
 * runs both at every boundary and prints the table.
 *
 * The spot build, the build with a temporary IAM instance profile and the
 * amazon-ebs build are sampled where they differ from the on-demand one: the
 * boundaries around their own resources (launch template, fleet instance,
 * spot request; role, policy, profile, attachment; the AMI made by
 * CreateImage, its encrypted copy and the deleted original) and the middle of
 * their create calls; for amazon-ebs also both modes as the stop and the
 * CreateImage steps begin. `bench/aws_crash_table.ts --shape ebs` runs every
 * boundary of the amazon-ebs build.
 */
import assert from "node:assert/strict";
import {
  type BuildShape,
  type CrashMode,
  type CrashRow,
  type CrashTrialSpec,
  type KillPoint,
  MID_CALLS,
  referenceBuild,
  type ReferenceEvent,
  runTrials,
  SHAPE_KINDS,
  SHAPES,
} from "./crash_table.ts";

function assertAllPassed(rows: CrashRow[]) {
  assert.deepEqual(
    rows.filter((r) => !r.ok).map((r) => `${r.shape} ${r.point} → ${r.mode}: ${r.outcome}`),
    [],
    "every kill point resumes to one launch and one AMI, and cleans up to nothing",
  );
}

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
  assertAllPassed(await runTrials(trials, 2));
});

/**
 * The CI sample of a spot or IAM build, at the shape's own resource kinds:
 * resume after each ResourceIntent (reconcile finds nothing yet), both modes
 * after each ResourceCreated (a resume there is where a second launch or a
 * second role would come from), cleanup after each ResourceDeleted (a kill
 * while the finished build deletes its scaffolding), and both modes in the
 * middle of each create call of those kinds.
 */
function shapeSample(shape: BuildShape, records: ReferenceEvent[]): CrashTrialSpec[] {
  const own = (kind?: string) => kind !== undefined && SHAPE_KINDS[shape].test(kind);
  const modesAfter: Record<string, CrashMode[]> = {
    ResourceIntent: ["resume"],
    ResourceCreated: ["resume", "cleanup"],
    ResourceDeleted: ["cleanup"],
  };
  const trials: CrashTrialSpec[] = records.filter((r) => own(r.kind)).flatMap((r) =>
    (modesAfter[r.type] ?? []).map((mode) => ({ point: { seq: r.seq }, mode, shape }))
  );
  for (const mid of SHAPES[shape].midCalls.filter((m) => own(MID_CALLS[m].kind))) {
    for (const mode of ["resume", "cleanup"] as const) trials.push({ point: { mid }, mode, shape });
  }
  return trials;
}

for (const shape of ["spot", "iam-profile"] as const) {
  Deno.test(`amazon-instance ${shape}: kill -9 around its own resources and mid-call, then resume or cleanup`, async () => {
    const ref = await referenceBuild(shape);
    const trials = shapeSample(shape, ref.records);
    assert.ok(trials.length >= 12, `${shape}: ${trials.length} trials sampled`);
    assertAllPassed(await runTrials(trials, 2));
  });
}

Deno.test("amazon-ebs (encrypt_boot): kill -9 around the stop, CreateImage, the encrypted copy and mid-CreateImage, then resume or cleanup", async () => {
  const ref = await referenceBuild("ebs");
  const trials = shapeSample("ebs", ref.records);
  // Both modes as the stop and CreateImage steps begin, and a resume after
  // the original AMI was deleted (the copy step must not copy from it again).
  const starts = ref.records.filter((r) =>
    (r.type === "StepStarted" && (r.step === "aws.stop_instance" || r.step === "aws.create_ami")) ||
    (r.type === "ResourceDeleted" && r.kind === "aws.ami")
  );
  for (const r of starts) {
    for (const mode of ["resume", "cleanup"] as const) {
      trials.push({ point: { seq: r.seq }, mode, shape: "ebs" });
    }
  }
  assert.ok(trials.length >= 12, `ebs: ${trials.length} trials sampled`);
  assertAllPassed(await runTrials(trials, 2));
});
