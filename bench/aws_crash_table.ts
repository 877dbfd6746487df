/**
 * Prints the kill -9 table of the amazon-instance builder (issue 5): one build
 * killed with SIGKILL after every event, then `kiln build --resume` and, in a
 * separate trial, `kiln cleanup`; plus kills in the middle of each create call
 * (RunInstances, CreateLaunchTemplate, CreateFleet, CreateRole,
 * CreateInstanceProfile, CreateImage). Four build shapes: on-demand, spot
 * (launch template + instant fleet), on-demand with a temporary IAM instance
 * profile, and amazon-ebs with encrypt_boot (stop, CreateImage, encrypted
 * copy). Each trial has its own EC2 + S3 + IAM emulator on loopback.
 *
 *   deno run -A bench/aws_crash_table.ts [--concurrency 2] [--every 1]
 *     [--shape on-demand,spot,iam-profile,ebs]
 *
 * `--every N` samples every Nth boundary (default: all of them); `--shape`
 * picks the builds (default: all four).
 */
import { parseArgs } from "node:util";
import {
  BUILD_SHAPES,
  type BuildShape,
  type CrashTrialSpec,
  formatTable,
  fullTrials,
  referenceBuild,
  runTrials,
  shapeTotals,
} from "../tests/aws/crash_table.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    concurrency: { type: "string" },
    every: { type: "string" },
    shape: { type: "string" },
  },
});
const concurrency = Number(values.concurrency ?? 2);
const every = Number(values.every ?? 1);
const shapes = (values.shape?.split(",") ?? [...BUILD_SHAPES]) as BuildShape[];
const unknown = shapes.filter((s) => !BUILD_SHAPES.includes(s));
if (unknown.length > 0) {
  console.error(`--shape: unknown ${unknown.join(", ")}; expected ${BUILD_SHAPES.join(", ")}`);
  Deno.exit(2);
}

const started = performance.now();
const trials: CrashTrialSpec[] = [];
const events: string[] = [];
for (const shape of shapes) {
  const ref = await referenceBuild(shape);
  events.push(`${shape} ${ref.events.length}`);
  trials.push(...fullTrials(shape, ref, every));
}
let done = 0;
const rows = await runTrials(trials, concurrency, (row) => {
  done++;
  if (!row.ok) console.error(`FAIL ${row.shape} ${row.point} → ${row.mode}: ${row.outcome}`);
  if (done % 20 === 0) console.error(`${done}/${trials.length} trials`);
});
console.log(
  `amazon kill -9 table: events in the reference builds: ${events.join(", ")}; ` +
    `${trials.length} trials, ${rows.filter((r) => r.ok).length} ok, ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
console.log("| build | trials | passed |\n|---|---|---|");
for (const t of shapeTotals(rows)) console.log(`| ${t.shape} | ${t.trials} | ${t.passed} |`);
console.log();
console.log(formatTable(rows));
if (rows.some((r) => !r.ok)) Deno.exit(1);
