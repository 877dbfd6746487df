/**
 * A run's timeline, derived from its event log alone: the drives of the run
 * (the first `build`, each `--resume`, each `cleanup`), one lane per build
 * with its steps, provisioners and post-processors as bars, and the moments
 * resources were created, deleted or released, retries and failures. The
 * fold keeps only where things ended up; a timeline needs every attempt, so
 * it is built from the records themselves (`kiln runs show --html`).
 *
 * Strings are kept as the log has them except that secret references are
 * shown as `<sensitive>` (never resolved): the renderer escapes them.
 */
import { runStoreBackend } from "./replica.ts";
import type { EventRecord } from "./events.ts";
import { EventType as E } from "./events.ts";
import { displayText } from "./secret_refs.ts";
import { readRun } from "./run_reader.ts";
import type { RunState } from "./fold.ts";

/** How a bar ended. "interrupted": its process died (or was cancelled) before it settled. */
export type BarStatus = "running" | "succeeded" | "failed" | "interrupted" | "compensated";

/** One span of work on a lane. */
export interface TimelineBar {
  kind: "step" | "provisioner" | "post-processor" | "compensation";
  label: string;
  start: number;
  /** Epoch ms; for a bar that never settled, the last event of its drive. */
  end: number;
  status: BarStatus;
  /** 1 for the first try; more for a retried step or provisioner. */
  attempt: number;
  /** Index into Timeline.drives of the drive it ran in. */
  drive: number;
  error?: string;
}

/** One moment on a lane. */
export interface TimelineMarker {
  kind: "created" | "deleted" | "released" | "retry" | "failure";
  at: number;
  /** e.g. "local.process_group 6820@35148", "shell-local #0 attempt 1 failed". */
  label: string;
  detail?: string;
}

/** One build. */
export interface TimelineLane {
  build: string;
  type?: string;
  status: string;
  error?: string;
  bars: TimelineBar[];
  markers: TimelineMarker[];
}

/** One process that drove the run. */
export interface TimelineDrive {
  kind: "build" | "resume" | "cleanup";
  start: number;
  end: number;
  /** It ended without its closing record (RunFinished / CleanupFinished): killed. */
  cut: boolean;
}

/** Everything the page shows. */
export interface Timeline {
  runId: string;
  template?: string;
  start: number;
  end: number;
  /** RunFinished's status, when the run finished. */
  finishedStatus?: string;
  drives: TimelineDrive[];
  lanes: TimelineLane[];
  records: number;
}

const DRIVE_STARTS = new Set<string>([E.RunStarted, E.RunResumed, E.CleanupStarted]);

const show = (v: unknown): string => displayText(String(v ?? ""));

/** Folds records, in log order, into a timeline; feed it with `add` and read it with `finish`. */
export class TimelineBuilder {
  #t: Timeline;
  #lanes = new Map<string, TimelineLane>();
  /** Open bars by build, then by key ("step:<id>", "prov:<i>", "pp:<chain>:<i>", "comp"). */
  #open = new Map<string, Map<string, TimelineBar>>();
  /** Attempts so far, by build and key, within the current build attempt. */
  #tries = new Map<string, number>();
  #last = 0;
  /** Times of the latest records: RunResumed names (`from`) the last record of the drive before. */
  #recent: { seq: number; at: number }[] = [];

  constructor(runId: string) {
    this.#t = { runId, start: 0, end: 0, drives: [], lanes: [], records: 0 };
  }

  /** Applies one record. */
  add(r: EventRecord): void {
    const at = Date.parse(r.ts);
    if (!Number.isFinite(at)) return;
    const t = this.#t;
    t.records++;
    if (t.start === 0) t.start = at;
    this.#last = at;
    const drive = t.drives.at(-1);
    // A drive ends at its own last record, not at the first one of the next.
    if (drive && !DRIVE_STARTS.has(r.type)) drive.end = at;
    this.#recent.push({ seq: r.seq, at });
    if (this.#recent.length > 64) this.#recent.shift();
    // deno-lint-ignore no-explicit-any
    const d = r.data as Record<string, any>;
    switch (r.type) {
      case E.RunStarted:
        t.template = d.template === undefined ? undefined : show(d.template);
        for (const b of Array.isArray(d.builds) ? d.builds : []) this.#lane(show(b));
        return this.#newDrive("build", at);
      case E.RunResumed: {
        // What the resuming process said before this record is its own, not the dead one's.
        const from = this.#recent.find((x) => x.seq === d.from);
        if (drive && from) drive.end = from.at;
        return this.#newDrive("resume", at);
      }
      case E.CleanupStarted:
        return this.#newDrive("cleanup", at);
      case E.CleanupFinished:
      case E.RunFinished:
        if (drive) drive.cut = false;
        if (r.type === E.RunFinished) t.finishedStatus = show(d.status);
        return;
    }
    if (r.build === null || r.build === undefined) return;
    const lane = this.#lane(show(r.build));
    const step = r.step === null || r.step === undefined ? undefined : show(r.step);
    switch (r.type) {
      case E.BuildStarted:
        if (d.type !== undefined) lane.type = show(d.type);
        lane.status = "running";
        lane.error = undefined;
        if (d.restart) this.#clearTries(lane.build);
        return;
      case E.BuildFinished:
        lane.status = show(d.status);
        if (d.error) {
          lane.error = show(d.error);
          lane.markers.push({ kind: "failure", at, label: "build failed", detail: lane.error });
        }
        // Whatever is still open ends with the build (a post-processor has no success record).
        for (const bar of this.#openOf(lane.build).values()) {
          this.#close(lane.build, bar, at, lane.error ? "failed" : "succeeded");
        }
        return;
      case E.StepStarted:
        if (step) this.#start(lane, `step:${step}`, "step", step, at);
        return;
      case E.StepSucceeded:
      case E.StepFailed:
        if (step) {
          this.#settle(lane, `step:${step}`, at, r.type === E.StepSucceeded, d.error);
          if (r.type === E.StepFailed) {
            lane.markers.push({
              kind: "failure",
              at,
              label: `${step} failed`,
              detail: show(d.error),
            });
          }
        }
        return;
      case E.ProvisionerStarted:
        return void this.#start(lane, `prov:${d.index}`, "provisioner", provLabel(d), at);
      case E.ProvisionerSucceeded:
      case E.ProvisionerFailed:
        return this.#settle(
          lane,
          `prov:${d.index}`,
          at,
          r.type === E.ProvisionerSucceeded,
          d.error,
        );
      case E.ProvisionerRetrying:
        this.#settle(lane, `prov:${d.index}`, at, false, d.error);
        lane.markers.push({
          kind: "retry",
          at,
          label: `${provLabel(d)} attempt ${Number(d.attempt) || "?"} failed, retrying`,
          detail: show(d.error),
        });
        return void this.#start(lane, `prov:${d.index}`, "provisioner", provLabel(d), at);
      case E.PostProcessorStarted:
        return void this.#start(
          lane,
          `pp:${d.chain}:${d.index}`,
          "post-processor",
          show(d.name ?? d.type),
          at,
        );
      case E.PostProcessorFailed:
        return this.#settle(lane, `pp:${d.chain}:${d.index}`, at, false, d.error);
      case E.ArtifactProduced:
        if (d.source !== "builder") this.#settle(lane, `pp:${d.chain}:${d.index}`, at, true);
        return;
      case E.CompensationStarted:
        if (d.kind === "build") {
          this.#start(lane, "comp", "compensation", "undo", at);
        }
        return;
      case E.CompensationSucceeded:
      case E.CompensationFailed:
        if (d.kind === "build") {
          this.#settle(lane, "comp", at, r.type === E.CompensationSucceeded, d.error);
        } else if (step && r.type === E.CompensationSucceeded) {
          const undone = lane.bars.findLast((b) => b.kind === "step" && b.label === step);
          if (undone && undone.status === "succeeded") undone.status = "compensated";
        }
        return;
      case E.ResourceCreated:
      case E.ResourceDeleted:
      case E.ResourceReleased:
        lane.markers.push({
          kind: r.type === E.ResourceCreated
            ? "created"
            : r.type === E.ResourceDeleted
            ? "deleted"
            : "released",
          at,
          label: `${show(d.kind)} ${show(d.id)}`,
          detail: d.reason === undefined ? undefined : show(d.reason),
        });
        return;
      case "AwsRetry":
        lane.markers.push({
          kind: "retry",
          at,
          label: `AWS ${show(d.operation ?? "call")} retried`,
          detail: d.error === undefined ? undefined : show(d.error),
        });
        return;
    }
  }

  /** The timeline so far; bars still open end at the last event, as running or interrupted. */
  finish(options: { running?: boolean } = {}): Timeline {
    for (const [build, open] of this.#open) {
      for (const bar of open.values()) {
        this.#close(build, bar, this.#last, options.running ? "running" : "interrupted");
      }
    }
    const t = this.#t;
    t.end = this.#last;
    t.lanes = [...this.#lanes.values()];
    for (const lane of t.lanes) lane.bars.sort((a, b) => a.start - b.start);
    return t;
  }

  #lane(build: string): TimelineLane {
    let lane = this.#lanes.get(build);
    if (!lane) {
      lane = { build, status: "pending", bars: [], markers: [] };
      this.#lanes.set(build, lane);
    }
    return lane;
  }

  #openOf(build: string): Map<string, TimelineBar> {
    let open = this.#open.get(build);
    if (!open) this.#open.set(build, open = new Map());
    return open;
  }

  /** A new drive: whatever the previous one left open was cut off with its process. */
  #newDrive(kind: TimelineDrive["kind"], at: number): void {
    const prev = this.#t.drives.at(-1);
    for (const [build, open] of this.#open) {
      for (const bar of open.values()) this.#close(build, bar, prev?.end ?? at, "interrupted");
    }
    this.#t.drives.push({ kind, start: at, end: at, cut: true });
  }

  #clearTries(build: string): void {
    for (const key of [...this.#tries.keys()]) {
      if (key.startsWith(`${build}\0`)) this.#tries.delete(key);
    }
  }

  #start(
    lane: TimelineLane,
    key: string,
    kind: TimelineBar["kind"],
    label: string,
    at: number,
  ): TimelineBar {
    const open = this.#openOf(lane.build);
    const stale = open.get(key);
    if (stale) this.#close(lane.build, stale, at, "interrupted");
    const tryKey = `${lane.build}\0${key}`;
    const attempt = (this.#tries.get(tryKey) ?? 0) + 1;
    this.#tries.set(tryKey, attempt);
    const bar: TimelineBar = {
      kind,
      label,
      start: at,
      end: at,
      status: "running",
      attempt,
      drive: Math.max(0, this.#t.drives.length - 1),
    };
    // A step started again in the same drive was retried (on-error=ask); one
    // started again by a resume re-runs what the dead process left unfinished.
    const before = lane.bars.findLast((b) => b.kind === kind && b.label === label);
    if (attempt > 1 && kind === "step" && before?.drive === this.#t.drives.length - 1) {
      lane.markers.push({ kind: "retry", at, label: `${label} attempt ${attempt}` });
    }
    lane.bars.push(bar);
    open.set(key, bar);
    return bar;
  }

  #settle(lane: TimelineLane, key: string, at: number, ok: boolean, error?: unknown): void {
    const bar = this.#openOf(lane.build).get(key);
    if (!bar) return;
    if (!ok && error !== undefined) bar.error = show(error);
    this.#close(lane.build, bar, at, ok ? "succeeded" : "failed");
  }

  #close(build: string, bar: TimelineBar, at: number, status: BarStatus): void {
    bar.end = Math.max(bar.start, at);
    bar.status = status;
    const open = this.#openOf(build);
    for (const [key, b] of open) if (b === bar) open.delete(key);
  }
}

function provLabel(d: Record<string, unknown>): string {
  return `${show(d.type)} #${Number(d.index)}`;
}

/** A run's timeline and how far its log can be trusted. */
export interface LoadedTimeline {
  timeline: Timeline;
  /** The log matches a seal on this machine. */
  sealed: boolean;
  /** A torn last line was ignored. */
  torn: boolean;
}

/**
 * Reads every record of run `runId` under `home` (verified against its seal
 * when it has one; a run without a seal here is shown, marked unsealed) and
 * builds its timeline. `isRunning` says from the folded state whether a
 * live process still drives the run (its open bars are running, not cut).
 */
export async function loadTimeline(
  runId: string,
  home: string,
  isRunning: (state: RunState) => Promise<boolean> = () => Promise.resolve(false),
): Promise<LoadedTimeline> {
  await runStoreBackend()?.refresh(runId, home, { full: true });
  const builder = new TimelineBuilder(runId);
  // full: the fold's snapshots skip records, and a timeline needs each one.
  const read = readRun(runId, home, {
    full: true,
    acceptUnsealed: true,
    onRecord: (r) => builder.add(r),
  });
  return {
    timeline: builder.finish({ running: await isRunning(read.state) }),
    sealed: read.seal !== undefined,
    torn: read.torn !== undefined,
  };
}
