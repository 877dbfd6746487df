/**
 * Crash scenarios: `kill -9` at every event boundary of each example build
 * (a sample in the fast campaign), and a real `kill -9` from outside after a
 * random delay inside long steps — RunInstances, an upload, compensation —
 * each followed by `--resume` (identical artifacts, completed provisioners
 * not re-run, one instance ever launched) or `cleanup` (nothing left).
 */
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { type InterruptTrial, interruptTrial, reference } from "../support/interrupt.ts";
import { LAB_NAMES, type LabKind, type LabOptions } from "../support/labs.ts";
import { runScenario, sample } from "../support/trials.ts";
import { SeededRandom } from "../../tests/support/ec2/random.ts";

/** Event boundaries sampled per lab and recovery in the fast campaign. */
const FAST_BOUNDARIES = 3;

async function everyBoundary(
  kind: LabKind,
  then: "resume" | "cleanup",
  size: CampaignSize,
): Promise<ScenarioResult> {
  const ref = await reference(kind);
  // The last event is RunFinished: a kill after it interrupts nothing.
  const seqs = ref.events.slice(0, -1).map((r) => r.seq);
  const chosen = size === "full" ? seqs : sample(seqs, FAST_BOUNDARIES + 1).slice(1);
  return await runScenario(
    `SIGKILL at ${
      size === "full" ? "every event boundary" : "sampled event boundaries"
    } → ${then} (${LAB_NAMES[kind]})`,
    chosen,
    (seq) => {
      const at = ref.events.find((r) => r.seq === seq)!;
      return `kill after event ${seq} ${at.type}${at.step ? ` (${at.step})` : ""}, ${then}`;
    },
    (seq) => interruptTrial({ lab: kind, interrupt: { seq }, then }),
  );
}

interface Moment {
  name: string;
  trial: (delayMs: number, then: "resume" | "cleanup") => InterruptTrial;
  /** Largest random delay after the line, in ms. */
  maxDelayMs: number;
  /** What follows the kill, in turn. */
  recoveries: ("resume" | "cleanup")[];
}

// Slow enough phases that a random delay lands inside them, on a busy machine too.
const SLOW_LAUNCH: LabOptions = { emulator: { pendingMs: 600 } };
const SLOW_TERMINATE: LabOptions = { emulator: { shuttingDownMs: 800 } };

const moments: Moment[] = [
  {
    name: "inside RunInstances and the wait for `running`",
    maxDelayMs: 500,
    recoveries: ["resume", "cleanup"],
    trial: (delayMs, then) => ({
      lab: "aws",
      labOptions: SLOW_LAUNCH,
      interrupt: { line: /Launching a source AWS instance/, delayMs, signal: "SIGKILL" },
      then,
    }),
  },
  {
    name: "inside an upload over SSH",
    maxDelayMs: 400,
    recoveries: ["resume", "cleanup"],
    trial: (delayMs, then) => ({
      lab: "null-ssh",
      labOptions: { uploadMiB: 96 },
      interrupt: { line: /Uploading .*payload\.bin/, delayMs, signal: "SIGKILL" },
      then,
    }),
  },
  {
    name: "inside compensation (a provisioner failed)",
    maxDelayMs: 600,
    // Resuming a build killed while compensating only finishes compensating: cleanup it is.
    recoveries: ["cleanup"],
    trial: (delayMs, then) => ({
      lab: "aws",
      labOptions: { ...SLOW_TERMINATE, provisioners: [{ type: "shell", inline: ["exit 3"] }] },
      interrupt: { line: /Terminating the source AWS instance/, delayMs, signal: "SIGKILL" },
      then,
    }),
  },
];

async function randomMoments(size: CampaignSize): Promise<ScenarioResult[]> {
  const random = new SeededRandom(7);
  const perMoment = size === "full" ? 10 : 2;
  const rows: ScenarioResult[] = [];
  for (const m of moments) {
    const trials = Array.from({ length: perMoment }, (_, n) => ({
      delayMs: Math.round(random.next() * m.maxDelayMs),
      then: m.recoveries[n % m.recoveries.length],
    }));
    rows.push(
      await runScenario(
        `kill -9 at a random moment ${m.name}`,
        trials,
        (t) => `kill ${t.delayMs} ms in, ${t.then}`,
        (t) => interruptTrial(m.trial(t.delayMs, t.then)),
      ),
    );
  }
  // RunInstances took effect but its answer was lost, on a cloud that ignores
  // ClientToken; the process dies on the retry: resume must adopt, not relaunch.
  rows.push(
    await runScenario(
      "kill -9 between RunInstances and its record (lost answer, ClientToken ignored)",
      ["resume", "cleanup"] as const,
      (then) => then,
      (then) =>
        interruptTrial({
          lab: "aws",
          labOptions: {
            faults: {
              ignoreClientToken: true,
              lostResponses: [{ action: "RunInstances", nth: 1 }],
            },
          },
          interrupt: { afterEvent: "AwsRetry" },
          then,
        }),
    ),
  );
  return rows;
}

/** The crash group. */
export const crash: Scenario = {
  group: "crash",
  async run(size) {
    const rows: ScenarioResult[] = [];
    for (const kind of ["null-ssh", "file", "aws"] as const) {
      for (const then of ["resume", "cleanup"] as const) {
        rows.push(await everyBoundary(kind, then, size));
      }
    }
    rows.push(...await randomMoments(size));
    return rows;
  },
};
