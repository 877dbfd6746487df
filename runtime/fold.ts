/**
 * The fold: turns an event log into the state of a run. Resume, cleanup,
 * `runs`, `runs show` and the live driver all read state through this one
 * reducer, so what a resumed process believes is exactly what the log says.
 */
import type { EventRecord } from "./events.ts";
import { EventType as E } from "./events.ts";
import type { Artifact, ResourceIntentRecord, ResourceRecord } from "./types.ts";

/** Where one step of a build stands. */
export interface StepState {
  id: string;
  status: "running" | "succeeded" | "failed" | "compensated";
  output?: unknown;
  error?: string;
  startedAt: string;
  endedAt?: string;
  /** Seq of StepSucceeded: orders compensation against resource creation. */
  succeededSeq?: number;
  /** Intents logged since the step last started and not yet settled. */
  intents: ResourceIntentRecord[];
  /** How many times the step was started. */
  attempts: number;
}

/** One resource in the cleanup ledger. */
export interface LedgerEntry {
  resource: ResourceRecord;
  step: string | null;
  createdSeq: number;
  createdAt: string;
  deletedAt?: string;
  /** Kiln refused to delete it (not provably the run's): left alone, no longer in the ledger. */
  released?: { at: string; reason: string };
}

/** Where one build stands. */
export interface BuildState {
  name: string;
  type?: string;
  status: "pending" | "running" | "compensating" | "succeeded" | "failed" | "cancelled";
  startedAt?: string;
  finishedAt?: string;
  /** Seq of the last BuildFinished. */
  finishedSeq?: number;
  error?: string;
  /** Restarts from scratch after a compensated failure. */
  attempt: number;
  steps: Record<string, StepState>;
  /** Step ids in the order they succeeded (and are not compensated). */
  completed: string[];
  /** The step that started and neither succeeded nor failed. */
  inFlight?: string;
  /** Every resource ever created, deleted ones included (see liveResources). */
  resources: LedgerEntry[];
  provisionersDone: number[];
  /** The error-cleanup-provisioner already ran in this attempt. */
  errorCleanupDone: boolean;
  /** The builder's artifact, once produced. */
  artifact?: Artifact;
  /** Post-processor outputs by `chain:index`. */
  postProcessed: Record<string, { artifact: Artifact; keep: boolean }>;
  /** Artifacts whose files were discarded: "builder" or `chain:index`. */
  discarded: string[];
  /** Final artifacts, from BuildFinished. */
  artifacts: Artifact[];
  /** A compensation pass started and did not finish. */
  compensating: boolean;
  compensationReason?: string;
  /** Compensation finished at least once for the current attempt. */
  compensated: boolean;
  /** Step ids whose compensate() succeeded in the current pass. */
  stepsCompensated: string[];
}

/** Where a run stands. */
export interface RunState {
  runId: string;
  template?: string;
  /** Working directory of the run (relative template paths resolve against it). */
  cwd?: string;
  templateDigest?: string;
  /** HCL2: the digest of each file of the configuration, by name. */
  files?: Record<string, string>;
  inputsDigest?: string;
  args?: string[];
  kilnVersion?: string;
  /** The template engine's clock of the first drive (restored on resume). */
  initTime?: string;
  /** Packer's PackerRunUUID for this run (absent in runs logged before kiln kept it). */
  runUuid?: string;
  startedAt?: string;
  finishedAt?: string;
  status: "running" | "succeeded" | "failed" | "cancelled";
  /** A RunFinished is missing: the driving process died (or still runs). */
  unfinished: boolean;
  resumes: number;
  cancelled: boolean;
  cleanups: number;
  builds: Record<string, BuildState>;
  lastSeq: number;
  /** Time of the last event (how far an interrupted run got). */
  lastTs?: string;
  /** Seq of the last RunStarted/RunResumed: where the latest drive of the run began. */
  driveSeq: number;
  /** The machine of the latest drive or cleanup (host.ts), when the log records it. */
  host?: string;
}

/** A fresh state for `runId`. */
export function emptyRunState(runId: string): RunState {
  return {
    runId,
    status: "running",
    unfinished: true,
    resumes: 0,
    cancelled: false,
    cleanups: 0,
    builds: {},
    lastSeq: 0,
    driveSeq: 0,
  };
}

function newBuild(name: string): BuildState {
  return {
    name,
    status: "pending",
    attempt: 0,
    steps: {},
    completed: [],
    resources: [],
    provisionersDone: [],
    errorCleanupDone: false,
    postProcessed: {},
    discarded: [],
    artifacts: [],
    compensating: false,
    compensated: false,
    stepsCompensated: [],
  };
}

/** The state a whole log folds to. */
export function foldRun(records: EventRecord[], runId?: string): RunState {
  const state = emptyRunState(runId ?? records[0]?.run ?? "");
  for (const r of records) applyEvent(state, r);
  return state;
}

/** Returns the build's state, creating it on first mention. */
export function buildOf(state: RunState, name: string): BuildState {
  return state.builds[name] ??= newBuild(name);
}

/** Applies one record to `state` (mutates it). */
export function applyEvent(state: RunState, r: EventRecord): void {
  state.lastSeq = r.seq;
  state.lastTs = r.ts;
  // deno-lint-ignore no-explicit-any
  const d = r.data as Record<string, any>;
  switch (r.type) {
    case E.RunStarted:
      state.driveSeq = r.seq;
      state.host = typeof d.host === "string" ? d.host : undefined;
      state.template = d.template;
      state.cwd = d.cwd;
      state.templateDigest = d.templateDigest;
      if (d.files && typeof d.files === "object") state.files = d.files;
      state.inputsDigest = d.inputsDigest;
      state.args = d.args;
      state.kilnVersion = d.kilnVersion;
      state.initTime = d.initTime;
      if (typeof d.runUuid === "string") state.runUuid = d.runUuid;
      state.startedAt = r.ts;
      for (const name of (d.builds as string[] | undefined) ?? []) buildOf(state, name);
      return;
    case E.RunResumed:
      state.driveSeq = r.seq;
      state.host = typeof d.host === "string" ? d.host : undefined;
      state.resumes++;
      state.unfinished = true;
      state.status = "running";
      state.cancelled = false;
      return;
    case E.RunCancelled:
      state.cancelled = true;
      return;
    case E.RunFinished:
      state.status = d.status;
      state.finishedAt = r.ts;
      state.unfinished = false;
      return;
    case E.CleanupStarted:
      state.cleanups++;
      state.host = typeof d.host === "string" ? d.host : state.host;
      return;
  }
  if (r.build === null) return;
  const b = buildOf(state, r.build);
  switch (r.type) {
    case E.BuildStarted:
      b.type = d.type ?? b.type;
      b.startedAt ??= r.ts;
      b.status = "running";
      b.finishedAt = undefined;
      b.error = undefined;
      if (d.restart) {
        // A compensated attempt left nothing behind: start over from step one.
        b.attempt++;
        b.steps = {};
        b.completed = [];
        b.inFlight = undefined;
        b.provisionersDone = [];
        b.errorCleanupDone = false;
        b.artifact = undefined;
        b.postProcessed = {};
        b.discarded = [];
        b.artifacts = [];
        b.compensated = false;
        b.stepsCompensated = [];
      }
      return;
    case E.BuildFinished:
      b.status = d.status;
      b.error = d.error;
      b.finishedAt = r.ts;
      b.finishedSeq = r.seq;
      b.artifacts = d.artifacts ?? [];
      b.inFlight = undefined;
      return;
    case E.StepStarted: {
      const prev = b.steps[r.step!];
      b.steps[r.step!] = {
        id: r.step!,
        status: "running",
        startedAt: prev?.status === "running" ? prev.startedAt : r.ts,
        // Intents of an interrupted attempt stay until the step settles: they
        // are what reconcile must look for.
        intents: prev?.status === "running" ? prev.intents : [],
        attempts: (prev?.attempts ?? 0) + 1,
      };
      b.inFlight = r.step!;
      return;
    }
    case E.StepSucceeded: {
      const s = b.steps[r.step!];
      if (!s) return;
      s.status = "succeeded";
      s.output = d.output;
      s.endedAt = r.ts;
      s.succeededSeq = r.seq;
      s.intents = [];
      b.completed = [...b.completed.filter((id) => id !== r.step), r.step!];
      if (b.inFlight === r.step) b.inFlight = undefined;
      return;
    }
    case E.StepFailed: {
      const s = b.steps[r.step!];
      if (!s) return;
      s.status = "failed";
      s.error = d.error;
      s.endedAt = r.ts;
      if (b.inFlight === r.step) b.inFlight = undefined;
      return;
    }
    case E.ResourceIntent:
      if (r.step && b.steps[r.step]) {
        b.steps[r.step].intents.push({ kind: d.kind, token: d.token, data: d.data });
      }
      return;
    case E.ResourceCreated: {
      // Recorded again while live (its identity refreshed): the same entry, updated.
      const live = liveIndex(b.resources).get(ledgerKey(d.kind, d.id))?.[0];
      if (live) {
        live.resource = {
          ...live.resource,
          region: d.region ?? live.resource.region,
          data: d.data,
        };
        return;
      }
      const entry: LedgerEntry = {
        resource: {
          kind: d.kind,
          id: d.id,
          region: d.region,
          data: d.data,
          temporary: d.temporary,
          ...(state.host ? { host: state.host } : {}),
        },
        step: r.step,
        createdSeq: r.seq,
        createdAt: r.ts,
      };
      b.resources.push(entry);
      liveIndex(b.resources).set(ledgerKey(d.kind, d.id), [entry]);
      return;
    }
    case E.ResourceReleased:
      for (const e of takeLive(b.resources, d.kind, d.id)) {
        e.released = { at: r.ts, reason: String(d.reason ?? "") };
      }
      return;
    case E.ResourceDeleted:
      for (const e of takeLive(b.resources, d.kind, d.id)) e.deletedAt = r.ts;
      return;
    case E.ProvisionerSucceeded:
      if (d.errorCleanup) b.errorCleanupDone = true;
      if (typeof d.index === "number" && !d.errorCleanup) {
        const done = doneIndex(b.provisionersDone);
        if (!done.has(d.index)) {
          done.add(d.index);
          b.provisionersDone.push(d.index);
        }
      }
      return;
    case E.ArtifactProduced:
      if (d.source === "builder") b.artifact = d.artifact;
      else b.postProcessed[`${d.chain}:${d.index}`] = { artifact: d.artifact, keep: !!d.keep };
      return;
    case E.ArtifactDiscarded:
      b.discarded.push(d.source === "builder" ? "builder" : `${d.chain}:${d.index}`);
      return;
    case E.CompensationStarted:
      if (d.kind === "build") {
        if (!b.compensating) b.stepsCompensated = [];
        b.compensating = true;
        b.compensationReason = d.reason;
        if (b.status === "running") b.status = "compensating";
      }
      return;
    case E.CompensationSucceeded:
    case E.CompensationFailed:
      if (r.step !== null && d.kind === "step") {
        if (r.type === E.CompensationSucceeded) {
          b.stepsCompensated.push(r.step);
          const s = b.steps[r.step];
          if (s) s.status = "compensated";
          b.completed = b.completed.filter((id) => id !== r.step);
        }
      } else if (d.kind === "build") {
        b.compensating = false;
        b.compensated = true;
        // Steps without compensate() are undone by their resources' deletion.
        for (const id of b.completed) b.steps[id].status = "compensated";
        b.completed = [];
      }
      return;
  }
}

/**
 * Live ledger entries by kind and id, kept beside each resources array (a
 * log can hold a hundred thousand of them: finding one must not scan all).
 * Built on first use, so a state read back from a snapshot gets its own.
 */
const liveIndexes = new WeakMap<LedgerEntry[], Map<string, LedgerEntry[]>>();

function ledgerKey(kind: string, id: string): string {
  return `${kind}\0${id}`;
}

function liveIndex(resources: LedgerEntry[]): Map<string, LedgerEntry[]> {
  let index = liveIndexes.get(resources);
  if (!index) {
    index = new Map();
    for (const e of resources) {
      if (e.deletedAt || e.released) continue;
      const key = ledgerKey(e.resource.kind, e.resource.id);
      const list = index.get(key);
      if (list) list.push(e);
      else index.set(key, [e]);
    }
    liveIndexes.set(resources, index);
  }
  return index;
}

/** The live entries of kind and id, which stop being live. */
function takeLive(resources: LedgerEntry[], kind: string, id: string): LedgerEntry[] {
  const index = liveIndex(resources);
  const key = ledgerKey(kind, id);
  const list = index.get(key) ?? [];
  index.delete(key);
  return list;
}

const doneIndexes = new WeakMap<number[], Set<number>>();

/** The provisioners done as a set, kept beside the array (see liveIndex). */
function doneIndex(done: number[]): Set<number> {
  let set = doneIndexes.get(done);
  if (!set) doneIndexes.set(done, set = new Set(done));
  return set;
}

/** Resources of a build that were created and not (yet) deleted nor released. */
export function liveResources(b: BuildState): LedgerEntry[] {
  return b.resources.filter((e) => !e.deletedAt && !e.released);
}

/** Outputs of the build's completed steps, by step id. */
export function completedOutputs(b: BuildState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of b.completed) out[id] = b.steps[id].output;
  return out;
}
