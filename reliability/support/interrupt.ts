/**
 * The trial behind the crash and signal scenarios: start an example build,
 * interrupt it (SIGKILL from the log writer at an event boundary, or a real
 * signal from outside at a chosen moment), then resume it, clean it up, or
 * let it compensate on its own — and check everything a user relies on.
 */
import { join } from "node:path";
import { type KilnExit, type KilnProcess, runKilnIn, spawnKiln } from "./kiln_process.ts";
import { type Lab, type LabKind, type LabOptions, openLab } from "./labs.ts";
import { lostEvents, recordsOnDisk, verifyLog } from "./log_check.ts";
import { Checks, type TrialOutcome } from "./trials.ts";
import { checkAftermath } from "./aftermath.ts";
import { sleep } from "../../runtime/sleep.ts";
import { runDir } from "../../runtime/paths.ts";
import type { EventRecord } from "../../runtime/events.ts";

/** How the build is interrupted. */
export type Interruption =
  /** The writer SIGKILLs its own process right after event `seq` is on disk. */
  | { seq: number }
  /** SIGKILL after the first event of a type (`KILN_CRASH_AFTER`, e.g. "AwsRetry"). */
  | { afterEvent: string }
  /** `signal` from outside, `delayMs` after a stdout line matching `line`. */
  | { line: RegExp; delayMs: number; signal: Deno.Signal }
  /** Nothing from kiln's side: the trial's `during` disturbs the world and the build fails on its own. */
  | { fault: string };

/** What follows the interruption. */
export type Recovery = "resume" | "cleanup" | "none";

/** One trial. */
export interface InterruptTrial {
  lab: LabKind;
  labOptions?: LabOptions;
  interrupt: Interruption;
  then: Recovery;
  /** Extra `kiln build` flags (e.g. -on-error=abort). */
  flags?: string[];
  /**
   * Set up the lab before the build starts (faults, timing) and react while
   * it runs (e.g. a fault switched on once a line shows).
   */
  prepare?(lab: Lab): Promise<void> | void;
  /** Runs alongside the first process (e.g. restarts sshd when a line shows). */
  during?(lab: Lab, proc: KilnProcess): Promise<void>;
  /** Runs after the first process ended, before the recovery (e.g. frees the disk). */
  beforeRecovery?(lab: Lab): Promise<void> | void;
  /** Undoes `prepare` (e.g. unmounts), always. */
  dispose?(lab: Lab): Promise<void> | void;
  /** Extra environment of the first process. */
  env?: Record<string, string>;
  /** What the first process must say (a clear error) when a fault ended it. */
  firstSays?: RegExp;
}

/** The uninterrupted run a trial's resume is compared with. */
export interface Reference {
  artifacts: Record<string, string>;
  counter: string[];
  events: EventRecord[];
}

const references = new Map<string, Promise<Reference>>();

/** One uninterrupted build of the lab (cached per lab kind and options). */
export function reference(kind: LabKind, options: LabOptions = {}): Promise<Reference> {
  const key = `${kind} ${JSON.stringify(options)}`;
  let ref = references.get(key);
  if (!ref) {
    ref = (async () => {
      const lab = await openLab(kind, options);
      try {
        const out = await runKilnIn(["build", ...lab.buildArgs], lab.spawn());
        if (out.code !== 0 || !out.runId) {
          throw new Error(`the reference ${kind} build failed:\n${out.stdout}\n${out.stderr}`);
        }
        const log = await verifyLog(lab.home, out.runId);
        if (!log.ok) throw new Error(`the reference ${kind} log: ${log.problem}`);
        return {
          artifacts: await lab.artifacts(),
          counter: await lab.counter(),
          events: log.records,
        };
      } finally {
        await lab.close();
      }
    })();
    references.set(key, ref);
  }
  return ref;
}

/** "23 ResourceIntent aws.instance (aws.run_instance)": an event, for failure lines. */
export function describeEvent(r: EventRecord): string {
  const kind = typeof r.data?.kind === "string" ? ` ${r.data.kind}` : "";
  return `${r.seq} ${r.type}${kind}${r.step ? ` (${r.step})` : ""}`;
}

async function onlyRunId(home: string): Promise<string | undefined> {
  try {
    for await (const e of Deno.readDir(join(home, "runs"))) if (e.isDirectory) return e.name;
  } catch {
    // Killed before the run directory existed.
  }
  return undefined;
}

function succeededProvisioners(records: EventRecord[]): number[] {
  return records.filter((r) => r.type === "ProvisionerSucceeded" && !r.data.errorCleanup)
    .map((r) => Number(r.data.index));
}

/** Runs one interrupt trial and checks it. */
export async function interruptTrial(t: InterruptTrial): Promise<TrialOutcome> {
  const ref = t.then === "resume" ? await reference(t.lab, t.labOptions) : undefined;
  const lab = await openLab(t.lab, t.labOptions);
  const c = new Checks();
  try {
    await t.prepare?.(lab);
    const i = t.interrupt;
    const hook: Record<string, string> = "seq" in i
      ? { KILN_CRASH_AT_SEQ: String(i.seq) }
      : "afterEvent" in i
      ? { KILN_CRASH_AFTER: i.afterEvent }
      : {};
    const proc = spawnKiln(
      ["build", ...(t.flags ?? []), ...lab.buildArgs],
      lab.spawn({ ...t.env, ...hook }),
    );
    const during = t.during?.(lab, proc).catch((err) =>
      c.expect(false, `disturbing the build failed: ${err}`)
    );
    if ("line" in i) {
      const seen = await proc.waitForLine(i.line);
      if (seen === undefined) c.expect(false, `never printed ${i.line}`);
      else {
        await sleep(i.delayMs);
        proc.kill(i.signal);
      }
    }
    const first = await proc.done;
    await during;
    const outputs: KilnExit[] = [first];
    const runId = first.runId ?? await onlyRunId(lab.home);
    if (!runId) {
      c.expect(false, `no run recorded (exit ${first.code}): ${first.stderr.slice(0, 300)}`);
      return c.outcome();
    }
    const killedBy = "signal" in i ? i.signal : "fault" in i ? undefined : "SIGKILL";
    if (killedBy === undefined) {
      c.expect(first.code !== 0, `the build did not notice ${(i as { fault: string }).fault}`);
      if (t.firstSays) {
        c.expect(
          t.firstSays.test(first.stdout + first.stderr),
          `no clear error (${t.firstSays.source}): ${errorGist(first.stdout + first.stderr)}`,
        );
      }
    } else if (killedBy === "SIGKILL") {
      c.expect(first.signal === "SIGKILL", `not killed: exit ${first.code} ${first.signal ?? ""}`);
    } else {
      c.expect(first.code === 130, `exit ${first.code} after ${killedBy}, expected 130`);
    }
    const before = await recordsOnDisk(lab.home, runId);
    const doneAtKill = succeededProvisioners(before);
    // The key a resume reconnects with must never reach the log or the terminal.
    const extraSecrets: Record<string, string> = {};
    try {
      extraSecrets["temporary private key"] = await Deno.readTextFile(
        join(runDir(runId, lab.home), "secrets", "ssh_private_key"),
      );
    } catch {
      // No temporary key (null/file builds, or not created yet).
    }
    if (t.lab === "null-ssh") {
      extraSecrets["ssh private key"] = await Deno.readTextFile(join(lab.dir, "client"));
    }

    await t.beforeRecovery?.(lab);
    if (t.then !== "none") {
      const next = await runKilnIn(
        t.then === "resume" ? ["build", "--resume", runId] : ["cleanup", runId],
        lab.spawn(),
      );
      outputs.push(next);
      c.expect(
        next.code === 0,
        `${t.then} exited ${next.code}: ${errorGist(next.stdout + next.stderr)}`,
      );
    }

    const log = await verifyLog(lab.home, runId);
    c.expect(log.ok, `log does not verify: ${log.ok ? "" : log.problem}`);
    const after = log.ok ? log.records : await recordsOnDisk(lab.home, runId);
    const lost = lostEvents(before, first.stdout.split("\n").slice(0, -1), after);
    c.lost += lost.count;
    if (lost.count > 0) c.expect(false, `${lost.count} event(s) lost, first: ${lost.first}`);
    const state = log.ok ? log.state : undefined;

    if (t.then === "resume" && ref) {
      c.expect(state?.status === "succeeded", `resumed run ended ${state?.status}`);
      const artifacts = await lab.artifacts();
      c.expect(
        JSON.stringify(artifacts) === JSON.stringify(ref.artifacts),
        `artifacts differ: ${JSON.stringify(artifacts)} vs ${JSON.stringify(ref.artifacts)}`,
      );
      const counter = await lab.counter();
      for (const p of new Set(ref.counter)) {
        const runs = counter.filter((l) => l === p).length;
        const index = Number(p.slice(1));
        if (doneAtKill.includes(index)) {
          c.expect(runs === 1, `provisioner ${p} had succeeded before the kill but ran ${runs}×`);
        } else c.expect(runs >= 1, `provisioner ${p} never ran`);
      }
    }
    if (t.then === "none") {
      c.expect(!!state?.cancelled, "run not marked cancelled (no RunCancelled)");
      c.expect(state?.status === "cancelled", `run ended ${state?.status}, expected cancelled`);
      c.expect(
        after.some((r) => r.type === "CompensationStarted"),
        "no compensation ran",
      );
    }
    if (t.lab === "aws") {
      const launches = lab.launches();
      c.expect(launches <= 1, `${launches} instances launched`);
      if (t.then === "resume") c.expect(launches === 1, `${launches} instances launched`);
    }
    await checkAftermath(c, lab, runId, state, outputs, extraSecrets);
    return c.outcome();
  } finally {
    await t.dispose?.(lab);
    await lab.close();
  }
}

/** The error lines (Packer's "--> build: error" and "errored") or else the last lines. */
function errorGist(text: string): string {
  const lines = text.trim().split("\n");
  const errors = lines.filter((l) => /^--> |errored|[Ee]rror:/.test(l.trim()));
  return (errors.length > 0 ? errors : lines.slice(-3)).join(" | ").slice(0, 600);
}
