/**
 * The kill -9 table of the amazon-instance builder: one real build is killed
 * (SIGKILL, by the log writer itself: `KILN_CRASH_AT_SEQ=N`) right after
 * event N, for every event boundary, and then either resumed or cleaned up.
 *
 * - resume: `kiln build --resume <id>` must succeed with exactly one
 *   instance ever launched, one AMI, and no instance / key pair / security
 *   group left;
 * - cleanup: `kiln cleanup <id>` must leave nothing at all — except, when the
 *   build had already succeeded before the kill, its result (the AMI and its
 *   S3 bundle), which cleanup keeps on purpose.
 *
 * Besides the event boundaries, "mid-RunInstances" kills the process after
 * RunInstances took effect but before its `ResourceCreated` was written: the
 * emulator loses the response (the client sees a 500), the builder logs the
 * retry (`AwsRetry`) and dies there, on a cloud that ignores ClientToken.
 *
 * Shared by tests/aws/crash_table_test.ts and bench/aws_crash_table.ts.
 */
import type { FaultOptions } from "../support/ec2/mod.ts";
import { amazonTemplate, type AwsWorkspace, awsWorkspace, kiln, writeTemplate } from "./support.ts";

/** What is done after the kill. */
export type CrashMode = "resume" | "cleanup";

/** Where the build is killed. */
export type KillPoint =
  | { seq: number }
  | { mid: "RunInstances" };

/** One row of the table. */
export interface CrashRow {
  /** The kill point as asked: "seq 23" or "mid-RunInstances" (groups the two modes). */
  key: string;
  /** "23 ResourceIntent aws.instance (aws.run_instance)" or "mid-RunInstances". */
  point: string;
  mode: CrashMode;
  ok: boolean;
  /** What happened, e.g. "resumed: 1 launch, 1 AMI, 0 left" or the failure. */
  outcome: string;
}

// Polling at 50 ms instead of the 1 s minimum of `aws_polling.delay_seconds`
// (an integer option): the env override takes fractions, and the table runs
// ~150 builds. Nothing asserts on time; this only keeps the waits short.
const FAST_ENV = { AWS_POLL_DELAY_SECONDS: "0.05" };
const FAST_EMULATOR = { pendingMs: 20, shuttingDownMs: 20, imagePendingMs: 20 };

const PROVISIONER = [{
  type: "shell",
  inline: ['echo provisioned-by-kiln > "$KILN_INSTANCE_ROOT/etc-motd"'],
}];

async function template(ws: AwsWorkspace): Promise<string> {
  return await writeTemplate(
    ws,
    amazonTemplate(ws, {
      aws_polling: { max_attempts: 400 },
      tags: { Base: "{{.SourceAMI}}" },
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

/** The events of one uninterrupted build of the table's template. */
export async function referenceBuild(): Promise<{ events: string[] }> {
  const ws = await awsWorkspace(FAST_EMULATOR);
  try {
    const result = await kiln(ws, ["build", await template(ws)], FAST_ENV);
    if (result.code !== 0) throw new Error(`reference build failed:\n${result.stdout}`);
    const runId = await runIdOf(ws);
    return { events: (await readLog(ws, runId!)).map(describe) };
  } finally {
    await ws.close();
  }
}

/** Kills one build at `point`, then resumes or cleans up, and checks the outcome. */
export async function crashTrial(point: KillPoint, mode: CrashMode): Promise<CrashRow> {
  const faults: FaultOptions = "mid" in point
    ? { ignoreClientToken: true, lostResponses: [{ action: "RunInstances", nth: 1 }] }
    : {};
  const ws = await awsWorkspace({ ...FAST_EMULATOR, faults });
  const row = (label: string, ok: boolean, outcome: string): CrashRow => ({
    key: "mid" in point ? "mid-RunInstances" : `seq ${point.seq}`,
    point: label,
    mode,
    ok,
    outcome,
  });
  try {
    const crashEnv: Record<string, string> = "mid" in point
      ? { KILN_CRASH_AFTER: "AwsRetry" }
      : { KILN_CRASH_AT_SEQ: String(point.seq) };
    const crashed = await kiln(ws, ["build", await template(ws)], { ...FAST_ENV, ...crashEnv });
    const runId = await runIdOf(ws);
    if (!runId) return row(JSON.stringify(point), false, "no run was recorded");
    const log = await readLog(ws, runId);
    const last = log.at(-1)!;
    const at = "seq" in point ? log.find((r) => r.seq === point.seq) : undefined;
    // A provisioner's own events are written together with its outcome in
    // one write (no crash can fall between them): a kill "after" the first
    // of them lands after the last.
    const label = "mid" in point
      ? `mid-RunInstances (${describe(last)}; instance exists, not in the log)`
      : at && at !== last
      ? `${describe(at)} = ${describe(last)} (one write)`
      : describe(last);
    if (crashed.code === 0) return row(label, false, "the build was not killed");
    if ("mid" in point) {
      if (last.type !== "AwsRetry" || ws.emulator.ledger().instances.length !== 1) {
        return row(label, false, "the kill did not fall between RunInstances and its record");
      }
    } else if (last.seq < point.seq || (last.seq > point.seq && !/^Provisioner/.test(last.type))) {
      return row(label, false, `killed after event ${last.seq}, not ${point.seq}`);
    }
    const succeededBefore = log.some((r) =>
      r.type === "BuildFinished" && (r.data as { status?: string }).status === "succeeded"
    );
    if (mode === "resume") {
      const resumed = await kiln(ws, ["build", "--resume", runId], FAST_ENV);
      const l = ws.emulator.ledger();
      const left = l.instances.length + l.keyPairs.length + l.securityGroups.length;
      const summary = `${l.launches} launch(es), ${l.images.length} AMI(s), ${left} temporary left`;
      const ok = resumed.code === 0 && l.launches === 1 && l.images.length === 1 &&
        l.images[0].state === "available" && left === 0;
      return row(
        label,
        ok,
        ok ? `resumed: ${summary}` : `exit ${resumed.code}: ${summary}\n${resumed.stdout}`,
      );
    }
    const cleaned = await kiln(ws, ["cleanup", runId], FAST_ENV);
    const l = ws.emulator.ledger();
    const kept = succeededBefore
      ? new Set([...l.images.map((i) => i.imageId), ...l.s3Objects.map((o) => `s3://${o}`)])
      : new Set<string>();
    const leaks = ws.emulator.leaks().filter((id) => !kept.has(id));
    const ok = cleaned.code === 0 && leaks.length === 0 && l.instances.length === 0;
    const what = succeededBefore
      ? `nothing left but the finished build's AMI (kept): ${l.images.length} AMI(s)`
      : "nothing left";
    return row(
      label,
      ok,
      ok
        ? `cleaned: ${what}`
        : `exit ${cleaned.code}: leaks ${leaks.join(", ")}\n${cleaned.stdout}`,
    );
  } finally {
    await ws.close();
  }
}

/** Runs `trials` with at most `concurrency` at once, in order of the list. */
export async function runTrials(
  trials: { point: KillPoint; mode: CrashMode }[],
  concurrency = 2,
  onRow?: (row: CrashRow) => void,
): Promise<CrashRow[]> {
  const rows: CrashRow[] = new Array(trials.length);
  let next = 0;
  const worker = async () => {
    while (next < trials.length) {
      const i = next++;
      rows[i] = await crashTrial(trials[i].point, trials[i].mode);
      onRow?.(rows[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, trials.length) }, worker));
  return rows;
}

/** The table as Markdown: kill point → outcome after resume and after cleanup. */
export function formatTable(rows: CrashRow[]): string {
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
