/**
 * The kill -9 table of the amazon-instance builder: one real build is killed
 * (SIGKILL, by the log writer itself: `KILN_CRASH_AT_SEQ=N`) right after
 * event N, for every event boundary, and then either resumed or cleaned up.
 * It runs for each build shape (crash_table_shapes.ts): on-demand, spot
 * (launch template + instant fleet) and on-demand with a temporary IAM
 * instance profile.
 *
 * - resume: `kiln build --resume <id>` must succeed with exactly one
 *   instance ever launched, one AMI, and nothing temporary left (instance,
 *   key pair, security group, launch template, spot request, role, profile);
 * - cleanup: `kiln cleanup <id>` must leave nothing at all — except, when the
 *   build had already succeeded before the kill, its result (the AMI and its
 *   S3 bundle), which cleanup keeps on purpose.
 *
 * Besides the event boundaries, "mid-<Call>" kills the process after a create
 * call (RunInstances, CreateFleet, CreateRole, ...) took effect but before
 * its `ResourceCreated` was written: the emulator loses the response (the
 * client sees a 500), the builder logs the retry (`AwsRetry`) and dies there,
 * on a cloud that ignores ClientToken.
 *
 * Shared by tests/aws/crash_table_test.ts and bench/aws_crash_table.ts.
 */
import type { FaultOptions } from "../support/ec2/mod.ts";
import {
  BUILD_SHAPES,
  type BuildShape,
  MID_CALLS,
  type MidCall,
  midCallFaults,
  SHAPES,
} from "./crash_table_shapes.ts";
import {
  amazonTemplate,
  type AwsWorkspace,
  awsWorkspace,
  ebsTemplate,
  kiln,
  writeTemplate,
} from "./support.ts";

export type { BuildShape, MidCall } from "./crash_table_shapes.ts";
export { BUILD_SHAPES, MID_CALLS, SHAPE_KINDS, SHAPES } from "./crash_table_shapes.ts";

/** What is done after the kill. */
export type CrashMode = "resume" | "cleanup";

/** Where the build is killed. */
export type KillPoint =
  | { seq: number }
  | { mid: MidCall };

/** One row of the table. */
export interface CrashRow {
  /** The kill point as asked: "seq 23" or "mid-RunInstances" (groups the two modes). */
  key: string;
  /** The build that was killed. */
  shape: BuildShape;
  /** "23 ResourceIntent aws.instance (aws.run_instance)" or "mid-RunInstances". */
  point: string;
  mode: CrashMode;
  ok: boolean;
  /** What happened, e.g. "resumed: 1 launch, 1 AMI, 0 left" or the failure. */
  outcome: string;
}

// Polling at 50 ms instead of the 1 s minimum of `aws_polling.delay_seconds`
// (an integer option): the env override takes fractions, and the table runs
// hundreds of builds. Nothing asserts on time; this only keeps the waits short.
const FAST_ENV = { AWS_POLL_DELAY_SECONDS: "0.05" };
// No IAM propagation delay: a launch refused while a new profile propagates
// is retried (`AwsRetry`) a number of times that depends on timing, and the
// table needs every run of a shape to log the same events, so that "after
// event N" is the same boundary in the reference build and in each trial.
const FAST_EMULATOR = {
  pendingMs: 20,
  shuttingDownMs: 20,
  imagePendingMs: 20,
  iamPropagationMs: 0,
};

const PROVISIONER = [{
  type: "shell",
  inline: ['echo provisioned-by-kiln > "$KILN_INSTANCE_ROOT/etc-motd"'],
}];

/** The env of every kiln call: IAM is served on the emulator's port, never beyond loopback. */
function envOf(ws: AwsWorkspace): Record<string, string> {
  return { ...FAST_ENV, AWS_ENDPOINT_URL_IAM: ws.emulator.endpoint };
}

async function template(ws: AwsWorkspace, shape: BuildShape): Promise<string> {
  const make = SHAPES[shape].type === "amazon-ebs" ? ebsTemplate : amazonTemplate;
  return await writeTemplate(
    ws,
    make(ws, {
      aws_polling: { max_attempts: 400 },
      tags: { Base: "{{.SourceAMI}}" },
      ...SHAPES[shape].builder,
    }, PROVISIONER),
  );
}

interface LogRecord {
  seq: number;
  type: string;
  step?: string;
  data: Record<string, unknown>;
}

async function runIdOf(ws: AwsWorkspace): Promise<string | undefined> {
  try {
    for await (const entry of Deno.readDir(`${ws.home}/runs`)) {
      if (entry.isDirectory) return entry.name;
    }
  } catch {
    // No run directory: the process died before creating it.
  }
  return undefined;
}

async function readLog(ws: AwsWorkspace, runId: string): Promise<LogRecord[]> {
  const text = await Deno.readTextFile(`${ws.home}/runs/${runId}/events.jsonl`);
  return text.split("\n").filter((l) => l.trim() !== "").flatMap((line) => {
    try {
      return [JSON.parse(line) as LogRecord];
    } catch {
      return []; // a torn last line
    }
  });
}

function describe(r: LogRecord): string {
  const kind = typeof r.data?.kind === "string" ? ` ${r.data.kind}` : "";
  const action = typeof r.data?.action === "string" ? ` ${r.data.action}` : "";
  return `${r.seq} ${r.type}${kind}${action}${r.step ? ` (${r.step})` : ""}`;
}

/** One event of the reference build: its type and, for resource events, the ledger kind. */
export interface ReferenceEvent {
  seq: number;
  type: string;
  kind?: string;
  /** The step that wrote it, if any. */
  step?: string;
}

/** The events of one uninterrupted build of the table's template. */
export async function referenceBuild(
  shape: BuildShape = "on-demand",
): Promise<{ events: string[]; records: ReferenceEvent[] }> {
  const ws = await awsWorkspace(FAST_EMULATOR);
  try {
    const result = await kiln(ws, ["build", await template(ws, shape)], envOf(ws));
    if (result.code !== 0) throw new Error(`reference ${shape} build failed:\n${result.stdout}`);
    const log = await readLog(ws, (await runIdOf(ws))!);
    return {
      events: log.map(describe),
      records: log.map((r) => ({
        seq: r.seq,
        type: r.type,
        kind: typeof r.data?.kind === "string" ? r.data.kind : undefined,
        step: r.step,
      })),
    };
  } finally {
    await ws.close();
  }
}

/** Why a mid-call kill did not land between the call and its record, or undefined when it did. */
function missedMidCall(call: MidCall, log: LogRecord[], ws: AwsWorkspace): string | undefined {
  const spec = MID_CALLS[call];
  const last = log.at(-1)!;
  if (last.type !== "AwsRetry" || last.data.action !== call) {
    return `the kill came after ${describe(last)}, not at the retry of ${call}`;
  }
  if (spec.count(ws.emulator.ledger()) !== 1) return `${call} did not take effect`;
  if (log.some((r) => r.type === "ResourceCreated" && r.data.kind === spec.kind)) {
    return `${spec.kind} was recorded before the kill`;
  }
  return undefined;
}

/** Kills one build at `point`, then resumes or cleans up, and checks the outcome. */
export async function crashTrial(
  point: KillPoint,
  mode: CrashMode,
  shape: BuildShape = "on-demand",
): Promise<CrashRow> {
  const faults: FaultOptions = "mid" in point ? midCallFaults(point.mid) : {};
  const ws = await awsWorkspace({ ...FAST_EMULATOR, faults });
  const env = envOf(ws);
  const row = (label: string, ok: boolean, outcome: string): CrashRow => ({
    key: "mid" in point ? `mid-${point.mid}` : `seq ${point.seq}`,
    shape,
    point: label,
    mode,
    ok,
    outcome,
  });
  try {
    const crashEnv: Record<string, string> = "mid" in point
      ? { KILN_CRASH_AFTER: "AwsRetry" }
      : { KILN_CRASH_AT_SEQ: String(point.seq) };
    const crashed = await kiln(ws, ["build", await template(ws, shape)], { ...env, ...crashEnv });
    const runId = await runIdOf(ws);
    if (!runId) return row(JSON.stringify(point), false, "no run was recorded");
    const log = await readLog(ws, runId);
    const last = log.at(-1)!;
    const at = "seq" in point ? log.find((r) => r.seq === point.seq) : undefined;
    // A provisioner's own events are written together with its outcome in
    // one write (no crash can fall between them): a kill "after" the first
    // of them lands after the last.
    const label = "mid" in point
      ? `mid-${point.mid} (${describe(last)}; created, not in the log)`
      : at && at !== last
      ? `${describe(at)} = ${describe(last)} (one write)`
      : describe(last);
    if (crashed.code === 0) return row(label, false, "the build was not killed");
    if ("mid" in point) {
      const missed = missedMidCall(point.mid, log, ws);
      if (missed) return row(label, false, missed);
    } else if (last.seq < point.seq || (last.seq > point.seq && !/^Provisioner/.test(last.type))) {
      return row(label, false, `killed after event ${last.seq}, not ${point.seq}`);
    }
    const succeededBefore = log.some((r) =>
      r.type === "BuildFinished" && (r.data as { status?: string }).status === "succeeded"
    );
    const after = mode === "resume"
      ? await kiln(ws, ["build", "--resume", runId], env)
      : await kiln(ws, ["cleanup", runId], env);
    const l = ws.emulator.ledger();
    // The build's result: an AMI and its S3 bundle or snapshots, kept by a
    // finished build. A snapshot no live AMI names is a leak.
    const amiSnapshots = [...ws.emulator.emulator.images.values()].filter((i) => !i.seeded)
      .flatMap((i) => i.blockDeviceMappings.flatMap((b) => b.ebs?.snapshotId ?? []));
    const result = new Set([
      ...l.images.map((i) => i.imageId),
      ...l.s3Objects.map((o) => `s3://${o}`),
      ...amiSnapshots,
    ]);
    const temporary = ws.emulator.leaks().filter((id) => !result.has(id));
    if (mode === "resume") {
      const summary = `${l.launches} launch(es), ${l.images.length} AMI(s), ` +
        `${temporary.length} temporary left${temporary.length ? ` (${temporary.join(", ")})` : ""}`;
      const ok = after.code === 0 && l.launches === 1 && l.images.length === 1 &&
        l.images[0].state === "available" && temporary.length === 0;
      return row(
        label,
        ok,
        ok ? `resumed: ${summary}` : `exit ${after.code}: ${summary}\n${after.stdout}`,
      );
    }
    const leaks = succeededBefore ? temporary : ws.emulator.leaks();
    const ok = after.code === 0 && leaks.length === 0 && l.instances.length === 0;
    const what = succeededBefore
      ? `nothing left but the finished build's AMI (kept): ${l.images.length} AMI(s)`
      : "nothing left";
    return row(
      label,
      ok,
      ok ? `cleaned: ${what}` : `exit ${after.code}: leaks ${leaks.join(", ")}\n${after.stdout}`,
    );
  } finally {
    await ws.close();
  }
}

/** One trial of the table; `shape` defaults to the on-demand build. */
export interface CrashTrialSpec {
  point: KillPoint;
  mode: CrashMode;
  shape?: BuildShape;
}

/**
 * The whole table of one shape: both modes after every `every`-th event of
 * its reference build but the last (RunFinished: a kill after it kills
 * nothing), and both modes in the middle of each of its create calls.
 */
export function fullTrials(
  shape: BuildShape,
  reference: { events: string[] },
  every = 1,
): CrashTrialSpec[] {
  const trials: CrashTrialSpec[] = [];
  for (let seq = 1; seq < reference.events.length; seq += every) {
    for (const mode of ["resume", "cleanup"] as const) trials.push({ point: { seq }, mode, shape });
  }
  for (const mid of SHAPES[shape].midCalls) {
    for (const mode of ["resume", "cleanup"] as const) trials.push({ point: { mid }, mode, shape });
  }
  return trials;
}

/** Runs `trials` with at most `concurrency` at once, in order of the list. */
export async function runTrials(
  trials: CrashTrialSpec[],
  concurrency = 2,
  onRow?: (row: CrashRow) => void,
): Promise<CrashRow[]> {
  const rows: CrashRow[] = new Array(trials.length);
  let next = 0;
  const worker = async () => {
    while (next < trials.length) {
      const i = next++;
      rows[i] = await crashTrial(trials[i].point, trials[i].mode, trials[i].shape);
      onRow?.(rows[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, trials.length) }, worker));
  return rows;
}

/** Trials and passes per shape, in table order. */
export function shapeTotals(
  rows: CrashRow[],
): { shape: BuildShape; trials: number; passed: number }[] {
  return BUILD_SHAPES.map((shape) => {
    const of = rows.filter((r) => r.shape === shape);
    return { shape, trials: of.length, passed: of.filter((r) => r.ok).length };
  }).filter((t) => t.trials > 0);
}

/**
 * The table as Markdown: kill point → outcome after resume and after
 * cleanup; one table per build shape (headed by the shape when there are
 * several).
 */
export function formatTable(rows: CrashRow[]): string {
  const totals = shapeTotals(rows);
  const sections = totals.map(({ shape, trials, passed }) => {
    const table = formatShape(rows.filter((r) => r.shape === shape));
    return totals.length > 1 ? `### ${shape} build: ${passed}/${trials} passed\n\n${table}` : table;
  });
  return sections.join("\n\n");
}

function formatShape(rows: CrashRow[]): string {
  const byPoint = new Map<string, { resume?: CrashRow; cleanup?: CrashRow }>();
  for (const r of rows) {
    const entry = byPoint.get(r.key) ?? {};
    entry[r.mode] = r;
    byPoint.set(r.key, entry);
  }
  const cell = (r?: CrashRow) =>
    r ? `${r.ok ? "ok" : "FAIL"}: ${r.outcome.split("\n")[0]}` : "(not sampled)";
  const lines = [
    "| kill after event | build --resume | cleanup |",
    "|---|---|---|",
  ];
  for (const e of byPoint.values()) {
    const point = (e.resume ?? e.cleanup)!.point;
    lines.push(`| ${point} | ${cell(e.resume)} | ${cell(e.cleanup)} |`);
  }
  return lines.join("\n");
}
