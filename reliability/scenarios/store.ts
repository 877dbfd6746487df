/**
 * The shared run store (issue 16) under the campaign: runners — kiln
 * processes with their own KILN_HOME and TMPDIR — sharing one bucket on the
 * project's S3 emulator. A runner killed at an event boundary is resumed or
 * cleaned up by another after its lease (or by the same machine again),
 * several runners resuming the same dead run leave exactly one proceeding,
 * store faults and outages are ridden out or stop the build before its next
 * side effect, a run taken over never forks, and a bucket edited by someone
 * without the team key is refused before anything is done.
 */
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { reference } from "../support/interrupt.ts";
import { LAB_NAMES, type LabKind } from "../support/labs.ts";
import { runScenario, sample } from "../support/trials.ts";
import { newTally, storeKillTrial, type StoreTally } from "../support/store_kill.ts";
import { type Disturbance, disturbedTrial } from "../support/store_disturb.ts";
import {
  controlTrial,
  gapObservations,
  HOSTILE_CASES,
  hostileTrial,
  olderSealTrial,
  openHostileBed,
} from "../support/store_hostile.ts";
import type { S3FaultOptions } from "../../tests/support/s3/mod.ts";

/** Boundaries of the amazon-instance lab in the full campaign (each trial takes ~13 s). */
const AWS_BOUNDARIES = 24;

function unsentNote(tally: StoreTally): string[] {
  const notes: string[] = [];
  if (tally.trialsWithUnsentOutput > 0) {
    notes.push(
      `${tally.shownNotStored} output line(s) in ${tally.trialsWithUnsentOutput} trial(s) had been ` +
        `shown by the killed runner but not yet sent to the store (output records travel in ` +
        `batches, up to 250 ms, with the next durable append); another runner's log does not ` +
        `have them. Not counted as lost: only durable appends are acknowledged by the store`,
    );
  }
  if (tally.stoppedTempDirs > 0) {
    notes.push(
      `${tally.stoppedTempDirs} trial(s): the runner that stopped itself (store lost) left its ` +
        `run temp dir in its own TMPDIR, as a crash does; on that machine only the next command ` +
        `on the run would sweep it, and here another runner continued the run`,
    );
  }
  return notes;
}

async function killRow(
  kind: LabKind,
  then: "resume" | "cleanup",
  by: "other" | "same",
  size: CampaignSize,
  fast: number,
): Promise<ScenarioResult> {
  const ref = await reference(kind);
  const seqs = ref.events.slice(0, -1).map((r) => r.seq);
  const full = size === "full";
  // The same machine matters most where its copy is ahead of the store: after an output line.
  const ui = ref.events.filter((r) => r.type === "Ui").map((r) => r.seq);
  const chosen = !full
    ? sample(by === "same" ? ui : seqs, fast + 2).slice(1, -1)
    : kind === "aws"
    ? sample(seqs, AWS_BOUNDARIES)
    : seqs;
  const where = full && kind !== "aws"
    ? "every event boundary"
    : `${chosen.length} sampled event boundar${chosen.length === 1 ? "y" : "ies"}`;
  const who = by === "same"
    ? "the same runner resumes (its copy ahead of the store)"
    : `another runner ${then === "resume" ? "resumes" : "cleans up"} after the lease`;
  const tally = newTally();
  const row = await runScenario(
    `kill -9 at ${where} → ${who} (${LAB_NAMES[kind]})`,
    chosen,
    (seq) => {
      const at = ref.events.find((r) => r.seq === seq)!;
      return `kill after event ${seq} ${at.type}${at.step ? ` (${at.step})` : ""}`;
    },
    (seq) => storeKillTrial({ lab: kind, seq, then, by }, tally),
  );
  return { ...row, notes: unsentNote(tally) };
}

async function racingRow(size: CampaignSize): Promise<ScenarioResult> {
  const ref = await reference("null-ssh");
  const seqs = ref.events.slice(0, -1).map((r) => r.seq);
  const points = size === "full" ? sample(seqs, 5).slice(1, -1) : [seqs[13]];
  const trials = size === "full"
    ? points.flatMap((seq) => [{ seq, runners: 2 }, { seq, runners: 3 }])
    : points.map((seq) => ({ seq, runners: 3 }));
  return await runScenario(
    "2 or 3 runners resuming the same dead run at once → exactly one proceeds",
    trials,
    (t) => `${t.runners} runners after a kill at event ${t.seq}`,
    (t) =>
      storeKillTrial({ lab: "null-ssh", seq: t.seq, then: "resume", by: { racing: t.runners } }),
  );
}

const PUT = "PutObject";

/** Store faults a build must ride out; the first is the fast campaign's. */
const FAULTS: { name: string; faults: S3FaultOptions }[] = [
  {
    name: "throttling 20 %, a 500 burst, a lost answer (error) and a dropped one",
    faults: {
      seed: 7,
      throttleRate: 0.2,
      errorBursts: [{ startCall: 5, length: 3, status: 500 }],
      lostResponses: [
        { operation: PUT, nth: 4, mode: "error" },
        { operation: PUT, nth: 9, mode: "drop" },
      ],
    },
  },
  { name: "throttling 20 % (seed 1)", faults: { seed: 1, throttleRate: 0.2 } },
  { name: "throttling 20 % (seed 2)", faults: { seed: 2, throttleRate: 0.2 } },
  { name: "throttling 50 % (seed 3)", faults: { seed: 3, throttleRate: 0.5 } },
  { name: "500 burst of 4 from request 3", faults: { errorBursts: [{ startCall: 3, length: 4 }] } },
  {
    name: "503 SlowDown burst of 6 from request 12",
    faults: { errorBursts: [{ startCall: 12, length: 6, status: 503 }] },
  },
  {
    name: "lost answers (error) of PUTs 2, 5 and 8",
    faults: {
      lostResponses: [2, 5, 8].map((nth) => ({ operation: PUT, nth, mode: "error" as const })),
    },
  },
  {
    name: "dropped connections after PUTs 3, 6 and 10 took effect",
    faults: {
      lostResponses: [3, 6, 10].map((nth) => ({ operation: PUT, nth, mode: "drop" as const })),
    },
  },
  { name: "every request 150 ms slow", faults: { delayMs: 150 } },
  {
    name: "PUTs 400 ms slow, throttling 10 % (seed 5)",
    faults: { delayMs: 400, delayOperations: [PUT], seed: 5, throttleRate: 0.1 },
  },
];

function disturbRow(
  scenario: string,
  items: { name: string; d: Disturbance }[],
): Promise<ScenarioResult> {
  const tally = newTally();
  return runScenario(scenario, items, (i) => i.name, (i) => disturbedTrial(i.d, tally))
    .then((row) => ({ ...row, notes: unsentNote(tally) }));
}

async function hostileRow(size: CampaignSize): Promise<ScenarioResult> {
  const full = size === "full";
  const cases = full ? HOSTILE_CASES : [HOSTILE_CASES[0], HOSTILE_CASES.at(-1)!];
  const bed = await openHostileBed(cases.some((c) => c.name.includes("another run")));
  try {
    const row = await runScenario(
      "hostile bucket contents (no team key) → replay, runs show, --resume, cleanup refuse, " +
        "nothing runs",
      // The control edits nothing and finishes the run: last.
      [...cases.map((c) => c.name), ...(full ? ["older seal", "control"] : [])],
      (name) => name === "control" ? "control: the store untouched, the marker runs" : name,
      (name) =>
        name === "control"
          ? controlTrial(bed)
          : name === "older seal"
          ? olderSealTrial(bed)
          : hostileTrial(bed, HOSTILE_CASES.find((c) => c.name === name)!),
      // One bed: the cases take turns editing it.
      { concurrency: 1 },
    );
    const notes: string[] = [];
    if (full) {
      notes.push(
        "a tampered resume secret: replay and runs show do not read secrets and may show the " +
          "log; --resume and cleanup refuse",
        "seal.json replaced by an older copy of itself (log kept whole) is accepted, and " +
          "harmless: a seal is only a lower bound (it legitimately lags the log), every record " +
          "carries the run key's MAC, and the resume continues after the last event",
      );
    }
    if (full) {
      notes.push(
        ...(await gapObservations(bed)).map((n) =>
          `KNOWN GAP — ${n}. Rolling a run back to a state the store really was in cannot be ` +
          `detected without S3 object versioning or object lock on the bucket`
        ),
      );
    } else {
      notes.push(
        "KNOWN GAP (observed in the full campaign): rolling the run back to an older consistent " +
          "state (an older seal and the segments it covers, or deleting segments the store's seal " +
          "does not cover yet) is accepted; not detectable without object versioning or lock",
      );
    }
    return { ...row, notes };
  } finally {
    await bed.close();
  }
}

/** Runs `rows` at most `lanes` at a time, keeping their order: much of a trial is waiting. */
async function inLanes(
  rows: (() => Promise<ScenarioResult>)[],
  lanes: number,
): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = new Array(rows.length);
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < rows.length) {
      const i = next++;
      out[i] = await rows[i]();
    }
  }));
  return out;
}

/** The store group. */
export const store: Scenario = {
  group: "store",
  run(size) {
    const full = size === "full";
    const rows: (() => Promise<ScenarioResult>)[] = [
      () => killRow("null-ssh", "resume", "other", size, 1),
      () => killRow("null-ssh", "resume", "same", size, 1),
      () => killRow("null-ssh", "cleanup", "other", size, 1),
      ...(full
        ? [
          () => killRow("aws", "resume", "other", size, 1),
          () => killRow("aws", "cleanup", "other", size, 1),
        ]
        : []),
      () => racingRow(size),
      () =>
        disturbRow(
          "store faults during a build → it succeeds, the store's log is the writer's",
          (full ? FAULTS : FAULTS.slice(0, 1)).map((f) => ({
            name: f.name,
            d: { faults: f.faults },
          })),
        ),
      () =>
        disturbRow(
          "store unreachable mid-build → the build waits, says so, and finishes",
          (full ? [1000, 2500, 4000] : [2500]).map((ms) => ({
            name: `offline ${ms} ms (lease 1 s)`,
            d: { outageMs: ms },
          })),
        ),
      () =>
        disturbRow(
          "store unreachable past KILN_STORE_WAIT_SECONDS → exit 1 before the next side effect, " +
            "another runner resumes",
          Array.from({ length: full ? 3 : 1 }, (_, n) => ({
            name: `offline from p1's pause (trial ${n + 1})`,
            d: { outage: "beyond the wait" as const },
          })),
        ),
      () =>
        disturbRow(
          "lease taken over / racing append (412) → the runner stops before its next side " +
            "effect, no fork",
          full
            ? (["frozen runner", "forged lease", "racing append"] as const).flatMap((how) => [
              { name: `${how} (trial 1)`, d: { takeover: how } },
              { name: `${how} (trial 2)`, d: { takeover: how } },
            ])
            : [{ name: "frozen runner", d: { takeover: "frozen runner" as const } }],
        ),
      () => hostileRow(size),
    ];
    return inLanes(rows, full ? 1 : 3);
  },
};
