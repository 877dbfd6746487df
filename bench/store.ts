/**
 * The shared run store (issue 16) against local `.kiln/`, in the same run,
 * on the project's S3 emulator (tests/support/s3/) on 127.0.0.1, which runs
 * in a process of its own so its CPU is not counted as kiln's:
 *
 *  1. concurrent null builds sharing one store: events/s over all runs and
 *     p50/p99 of a durable append (how long EventLog.appendAll blocked,
 *     recorded by the writer itself through KILN_BENCH_APPEND_LOG);
 *  2. `build --resume` of a ~100,000-event run, to its "Resuming run" line:
 *     same runner (warm working copy), fresh runner (downloads the log) and
 *     local `.kiln/`; the goal is <= 1 s with snapshots; then where the
 *     store resume's time goes (listing, downloads, local fold, start-up);
 *  3. S3 requests by operation: one null build, a `runs` listing, a resume.
 *
 *   deno run -A bench/store.ts [--processes 10] [--builds-per-run 5] [--lines 100]
 *     [--events 100000] [--runs 3] [--json]
 *
 * kiln processes inherit this one's environment: KILN_SNAPSHOT_EVERY (5,000
 * by default) changes how often snapshots are written. `--json` prints the
 * raw numbers on stdout (the tables then go to stderr).
 *
 * Figure 1 defaults to 10 kiln processes of 5 parallel null builds each (50
 * builds): on 2 cores, 50 processes of one build each took 2.4× the CPU of
 * 10 processes running the same 50 builds (40 vs 17 CPU-s, local, measured),
 * a per-process cost (starting Deno and kiln, and with a store loading the
 * AWS SDK in each) rather than what the store costs per event.
 * `--processes 50 --builds-per-run 1` runs one build per process instead.
 * The CPU row needs /usr/bin/time (Debian `time`); without it, it is empty.
 */
import { parseArgs } from "node:util";
import {
  concurrentBuilds,
  type ConcurrentResult,
  writeConcurrentTemplate,
} from "./store/concurrent.ts";
import { startBenchLab } from "./store/lab.ts";
import { type RequestCount, requestsOfBuild, requestsOfListing } from "./store/requests.ts";
import { type ResumeCase, resumeFromStore, type ResumeResult } from "./store/resume.ts";
import { median, table } from "./store/stats.ts";
import { snapshotInterval } from "../runtime/snapshot.ts";

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench/store.ts: --${name} must be a positive whole number, not "${raw}"`);
    Deno.exit(2);
  }
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    options: {
      processes: { type: "string", default: "10" },
      "builds-per-run": { type: "string", default: "5" },
      lines: { type: "string", default: "100" },
      events: { type: "string", default: "100000" },
      runs: { type: "string", default: "3" },
      json: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  console.error(`bench/store.ts: ${err instanceof Error ? err.message : String(err)}`);
  Deno.exit(2);
}
const shape = {
  processes: positive("processes", values.processes),
  buildsPerRun: positive("builds-per-run", values["builds-per-run"]),
  lines: positive("lines", values.lines),
};
const events = positive("events", values.events);
const runs = positive("runs", values.runs);

const fixed = (n: number, digits = 2) => Number.isFinite(n) ? n.toFixed(digits) : "–";
const ratio = (store: number, local: number) =>
  Number.isFinite(store / local) ? `${fixed(store / local)}×` : "";

function concurrentTable(results: ConcurrentResult[]): string {
  const of = (mode: string, pick: (r: ConcurrentResult) => number) =>
    median(results.filter((r) => r.mode === mode).map(pick));
  const rows: [string, (r: ConcurrentResult) => number, number][] = [
    ["events (all runs)", (r) => r.events, 0],
    ["wall, first start to last exit (s)", (r) => r.wallSeconds, 2],
    ["events/s over that wall time", (r) => r.eventsPerSecond, 0],
    ["events/s, first to last record", (r) => r.eventsPerSecondInLog, 0],
    ["durable appends", (r) => r.durableAppends, 0],
    ["durable append p50 (ms)", (r) => r.appendP50Ms, 1],
    ["durable append p99 (ms)", (r) => r.appendP99Ms, 1],
    ["durable append max (ms)", (r) => r.appendMaxMs, 1],
    ["kiln CPU, all processes (s)", (r) => r.kilnCpuSeconds, 1],
    ["emulator CPU meanwhile (s)", (r) => r.emulatorCpuSeconds, 1],
    ["failed builds", (r) => r.failed, 0],
  ];
  return table(
    ["", "local .kiln/", "store (S3 emulator)", "store / local"],
    rows.map(([name, pick, digits]) => {
      const [l, s] = [of("local", pick), of("store", pick)];
      return [
        name,
        fixed(l, digits),
        fixed(s, digits),
        // Local builds send the emulator nothing, so its CPU has no ratio; failures neither.
        name === "failed builds" || name.startsWith("emulator") ? "" : ratio(s, l),
      ];
    }),
  );
}

function resumeTables(r: ResumeResult): string {
  const cases = Object.keys(r.medians) as ResumeCase[];
  const opsOf = (c: ResumeCase) => {
    const s = r.samples.find((x) => x.case === c)!;
    const ops = Object.entries(s.requests).map(([op, n]) => `${op} ${n}`).join(", ");
    return ops || "–";
  };
  const times = table(
    ["resume from", 'to "Resuming run", median (s)', "min–max (s)", "≤ 1 s?", "S3 requests"],
    cases.map((c) => {
      const all = r.samples.filter((s) => s.case === c).map((s) => s.seconds);
      return [
        c,
        fixed(r.medians[c]),
        `${fixed(Math.min(...all))}–${fixed(Math.max(...all))}`,
        r.medians[c] <= 1 ? "yes" : "no",
        opsOf(c),
      ];
    }),
  );
  const p = r.profile;
  const profile = table(
    ["store resume, taken apart", "seconds"],
    [
      [
        `an empty copy as resume fills it (from the newest snapshot): ${p.segments} GETs`,
        fixed(p.coldHydrate.total, 3),
      ],
      ["  of which listing (ListObjectsV2)", fixed(p.coldHydrate.listing, 3)],
      ["  of which downloads (GetObject, 8 at a time)", fixed(p.coldHydrate.downloads, 3)],
      ["  of which checks and local writes", fixed(p.coldHydrate.rest, 3)],
      [
        `the whole log into an empty copy (replay, cleanup): ${p.wholeSegments} GETs, ${
          fixed(p.logBytes / 1e6, 1)
        } MB`,
        fixed(p.wholeHydrate.total, 3),
      ],
      ["bring a warm copy up to date", fixed(p.warmHydrate.total, 3)],
      ["  of which listing", fixed(p.warmHydrate.listing, 3)],
      ["  of which GETs (run.json, seal, snapshot)", fixed(p.warmHydrate.downloads, 3)],
      [`verified fold from the snapshot at ${p.snapshotSeq}`, fixed(p.foldFromSnapshot, 3)],
      ["verified fold of the whole log (no snapshot)", fixed(p.foldFull, 3)],
      ["process start (`kiln version`)", fixed(p.processStart, 3)],
      [
        "store worker's first request in a fresh process (thread, AWS SDK, connection)",
        fixed(p.storeStart.firstRequest, 3),
      ],
      ["  the next request, warm", fixed(p.storeStart.nextRequest, 3)],
    ],
  );
  return `${times}\n\n${profile}`;
}

function requestTable(counts: RequestCount[]): string {
  const ops = ["PutObject", "GetObject", "ListObjectsV2", "DeleteObject"];
  return table(
    ["what", ...ops, "other", "total", "per event / per run"],
    counts.map((c) => {
      const other = c.total - ops.reduce((sum, op) => sum + (c.requests[op] ?? 0), 0);
      return [
        `${c.what} (${c.units} ${c.unit}s)`,
        ...ops.map((op) => String(c.requests[op] ?? 0)),
        String(other),
        String(c.total),
        `${fixed(c.total / c.units, 3)} per ${c.unit}`,
      ];
    }),
  );
}

const lab = await startBenchLab();
// Other work on the machine moves every figure: say how busy it was.
const loadBefore = Deno.loadavg()[0];
try {
  const template = await writeConcurrentTemplate(lab.dir, shape);
  const concurrent: ConcurrentResult[] = [];
  for (let rep = 0; rep < runs; rep++) {
    // Alternate which mode goes first: neither always gets the cooler machine.
    const order = rep % 2 === 0 ? (["local", "store"] as const) : (["store", "local"] as const);
    for (const mode of order) {
      concurrent.push(await concurrentBuilds(lab, mode, `fig1-${rep}/`, template, shape));
    }
  }
  const resume = await resumeFromStore(lab, { lines: events, runs, leaseSeconds: 2 });
  const single = await writeConcurrentTemplate(
    await Deno.makeTempDir({ dir: lab.dir }),
    { ...shape, buildsPerRun: 1 },
  );
  const requests: RequestCount[] = [
    await requestsOfBuild(lab, single),
    ...await requestsOfListing(lab, "fig1-0/", shape.processes),
    ...(["store, same runner", "store, fresh runner"] as const).map((c): RequestCount => {
      const s = resume.samples.find((x) => x.case === c)!;
      const total = Object.values(s.requests).reduce((a, b) => a + b, 0);
      return {
        what: `\`build --resume\`, ${c.slice(7)}`,
        requests: s.requests,
        total,
        units: s.events,
        unit: "event",
        seconds: s.seconds,
      };
    }),
  ];

  // With --json the raw numbers go to stdout and the tables to stderr: `--json > raw.json` keeps both.
  const say = values.json ? console.error : console.log;
  say(
    `## 1. ${shape.processes * shape.buildsPerRun} concurrent null builds ` +
      `(${shape.processes} kiln processes × ${shape.buildsPerRun} builds, 3 shell-local ` +
      `provisioners × ${shape.lines} lines each), median of ${runs}\n`,
  );
  say(concurrentTable(concurrent));
  say(
    `\n## 2. \`build --resume\` of a ${resume.events.toLocaleString("en")}-event run ` +
      `(snapshots every ${snapshotInterval().toLocaleString("en")} events), ${runs} runs each\n`,
  );
  say(resumeTables(resume));
  say(`\n## 3. S3 requests\n`);
  say(requestTable(requests));
  const left = Object.entries(requests[0].objects ?? {}).map(([k, n]) => `${n} ${k}`).join(", ");
  say(`\nObjects the one build left in the store: ${left}.`);
  say(
    `\nLoad average (1 min): ${fixed(loadBefore)} at the start, ${
      fixed(Deno.loadavg()[0])
    } at the end.`,
  );
  say(
    `\nThe S3 emulator ran in its own process on 127.0.0.1: no network between kiln and the ` +
      `store, so a real S3 adds its round trip to every request a durable append waits for.`,
  );
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          shape: { ...shape, events, runs },
          load: { before: loadBefore, after: Deno.loadavg()[0] },
          concurrent,
          resume,
          requests,
        },
        null,
        2,
      ),
    );
  }
} finally {
  await lab.close();
}
