/**
 * Prints the kill -9 table of the amazon-instance builder (issue 5): one build
 * killed with SIGKILL after every event, then `kiln build --resume` and, in a
 * separate trial, `kiln cleanup`; plus a kill in the middle of RunInstances.
 * Each trial has its own EC2 + S3 emulator on loopback.
 *
 *   deno run -A bench/aws_crash_table.ts [--concurrency 2] [--every 1]
 *
 * `--every N` samples every Nth boundary (default: all of them).
 */
import { parseArgs } from "node:util";
import {
  type CrashMode,
  formatTable,
  type KillPoint,
  referenceBuild,
  runTrials,
} from "../tests/aws/crash_table.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { concurrency: { type: "string" }, every: { type: "string" } },
});
const concurrency = Number(values.concurrency ?? 2);
const every = Number(values.every ?? 1);

const started = performance.now();
const ref = await referenceBuild();
const trials: { point: KillPoint; mode: CrashMode }[] = [];
for (let seq = 1; seq < ref.events.length; seq += every) {
  for (const mode of ["resume", "cleanup"] as const) trials.push({ point: { seq }, mode });
}
for (const mode of ["resume", "cleanup"] as const) {
  trials.push({ point: { mid: "RunInstances" }, mode });
}
let done = 0;
const rows = await runTrials(trials, concurrency, (row) => {
  done++;
  if (!row.ok) console.error(`FAIL ${row.point} → ${row.mode}: ${row.outcome}`);
  if (done % 20 === 0) console.error(`${done}/${trials.length} trials`);
});
console.log(
  `amazon-instance kill -9 table: ${ref.events.length} events in the reference build, ` +
    `${trials.length} trials, ${rows.filter((r) => r.ok).length} ok, ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
console.log(formatTable(rows));
if (rows.some((r) => !r.ok)) Deno.exit(1);
