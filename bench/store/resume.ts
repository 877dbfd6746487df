/**
 * Figure 2: `kiln build --resume` of a run of about 100,000 events, from
 * the moment the command starts to its "Resuming run" line: (a) on the
 * runner that wrote it (its working copy is warm), (b) on a fresh runner
 * (empty KILN_HOME: the log comes from the store), (c) the same run kept
 * in `.kiln/` on local disk. The run is one shell-local provisioner
 * printing the lines, killed (KILN_CRASH_AFTER) right after it; each timed
 * resume is killed right after its RunResumed record, so the run stays
 * resumable for the next one (it grows by two events each time). A dead
 * runner's lease is waited out before each store resume, so the figure is
 * the resume's own time, not the lease's.
 *
 * The profile then takes the store resume apart in this process: listing
 * and downloads (store/hydrate.ts, timed per S3 call), the local fold from
 * the newest snapshot (runtime/run_reader.ts), and a kiln process's start.
 */
import { join } from "node:path";
import { watchKiln } from "../../tests/support/kiln_process.ts";
import { readRun } from "../../runtime/run_reader.ts";
import type { StoreConfig } from "../../store/config.ts";
import { keyWrapper } from "../../store/key_wrap.ts";
import { hydrate } from "../../store/hydrate.ts";
import { StoreClient } from "../../store/s3.ts";
import { type BenchLab, type Mode, runIdOf } from "./lab.ts";
import { median } from "./stats.ts";
import type { StoreStart } from "./store_start.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const PREFIX = "fig2/";

/** The shape of figure 2. */
export interface ResumeShape {
  /** Lines the provisioner prints (each one event). */
  lines: number;
  /** Timed resumes per case. */
  runs: number;
  /** The store's lease (short, so a killed resume's lease is waited out quickly). */
  leaseSeconds: number;
}

/** Where a resume starts from. */
export type ResumeCase = "store, same runner" | "store, fresh runner" | "local .kiln/";

/** One timed resume. */
export interface ResumeSample {
  case: ResumeCase;
  /** From spawning the command to its "Resuming run" line. */
  seconds: number;
  /** Events in the run when it resumed. */
  events: number;
  /** S3 requests it made, by operation (store cases). */
  requests: Record<string, number>;
}

/** The store resume taken apart (seconds). */
export interface ResumeProfile {
  logBytes: number;
  segments: number;
  coldHydrate: { total: number; listing: number; downloads: number; rest: number };
  warmHydrate: { total: number; listing: number; downloads: number; rest: number };
  /** The whole log into an empty copy (replay, cleanup). */
  wholeHydrate: { total: number; listing: number; downloads: number; rest: number };
  wholeSegments: number;
  /** Verified fold from the newest snapshot (what resume reads) and of the whole log. */
  foldFromSnapshot: number;
  /** The snapshot that fold started from (0: none). */
  snapshotSeq: number;
  foldFull: number;
  /** `kiln version`: starting Deno and kiln, nothing read. */
  processStart: number;
  /** A fresh process's store worker: its first request (thread, AWS SDK, connection), then one more. */
  storeStart: StoreStart;
}

/** Figure 2's numbers. */
export interface ResumeResult {
  events: number;
  samples: ResumeSample[];
  medians: Record<ResumeCase, number>;
  profile: ResumeProfile;
}

async function writeTemplate(dir: string, lines: number): Promise<string> {
  const file = join(dir, "resume.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [
        { type: "shell-local", inline: [`seq 1 ${lines} | sed 's/^/chatty build output line /'`] },
        { type: "shell-local", inline: ["echo the step a resume comes back to"] },
      ],
    }),
  );
  return file;
}

/** Builds the run and kills it after its chatty provisioner; its id. */
async function interruptedRun(env: Record<string, string>, template: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "build", template],
    env: { ...env, KILN_CRASH_AFTER: "ProvisionerSucceeded" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.signal !== "SIGKILL") throw new Error(`the 100k-event build did not stop:\n${stderr}`);
  return runIdOf(stderr);
}

function countEvents(home: string, runId: string): number {
  const bytes = Deno.readFileSync(join(home, "runs", runId, "events.jsonl"));
  let n = 0;
  for (const b of bytes) if (b === 10) n++;
  return n;
}

/** Total length of the union of [start, end] spans. */
function busy(spans: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

/** A store client whose list and get calls are timed. */
function timedClient(config: StoreConfig) {
  const client = new StoreClient(config);
  const spans = { list: [] as [number, number][], get: [] as [number, number][] };
  const list = client.list.bind(client);
  const get = client.get.bind(client);
  client.list = async (...args: Parameters<StoreClient["list"]>) => {
    const t = performance.now();
    try {
      return await list(...args);
    } finally {
      spans.list.push([t, performance.now()]);
    }
  };
  client.get = async (...args: Parameters<StoreClient["get"]>) => {
    const t = performance.now();
    try {
      return await get(...args);
    } finally {
      spans.get.push([t, performance.now()]);
    }
  };
  return { client, spans };
}

async function profile(lab: BenchLab, runId: string): Promise<ResumeProfile> {
  const config = lab.storeConfig(PREFIX);
  const prefix = config.prefix;
  const home = await Deno.makeTempDir({ dir: lab.dir, prefix: "fig2-profile-" });
  const seals = join(home, "seals");
  const team = keyWrapper(config);
  const once = async (full = false) => {
    const { client, spans } = timedClient(config);
    const t = performance.now();
    await hydrate(client, team, prefix, runId, home, seals, { full });
    const total = (performance.now() - t) / 1000;
    client.destroy();
    const listing = busy(spans.list) / 1000;
    const downloads = busy(spans.get) / 1000;
    return { total, listing, downloads, rest: total - listing - downloads, gets: spans.get.length };
  };
  // An empty copy as resume fills it (from the newest snapshot), then warm,
  // then whole (what replay and cleanup read), which the full fold needs.
  const cold = await once();
  const warm = await once();
  const whole = await once(true);
  let snapshotSeq = 0;
  const fold = (full: boolean) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const read = readRun(runId, home, { sealHome: seals, full });
      times.push((performance.now() - t) / 1000);
      if (!full) snapshotSeq = read.snapshotSeq;
    }
    return median(times);
  };
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await new Deno.Command(Deno.execPath(), { args: ["run", "-A", CLI, "version"], stdout: "null" })
      .output();
    starts.push((performance.now() - t) / 1000);
  }
  const storeStarts: StoreStart[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./store_start.ts", import.meta.url).pathname],
      env: lab.env("store", PREFIX, home),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    storeStarts.push(JSON.parse(new TextDecoder().decode(out.stdout)));
  }
  const storeStart: StoreStart = {
    setup: median(storeStarts.map((s) => s.setup)),
    firstRequest: median(storeStarts.map((s) => s.firstRequest)),
    nextRequest: median(storeStarts.map((s) => s.nextRequest)),
  };
  const { gets: _gets, ...coldHydrate } = cold;
  const { gets: _warmGets, ...warmHydrate } = warm;
  const { gets: wholeGets, ...wholeHydrate } = whole;
  return {
    logBytes: (await Deno.stat(join(home, "runs", runId, "events.jsonl"))).size,
    segments: cold.gets,
    coldHydrate,
    warmHydrate,
    wholeHydrate,
    wholeSegments: wholeGets,
    foldFromSnapshot: fold(false),
    foldFull: fold(true),
    snapshotSeq,
    processStart: median(starts),
    storeStart,
  };
}

/** Runs figure 2. */
export async function resumeFromStore(
  lab: BenchLab,
  shape: ResumeShape,
): Promise<ResumeResult> {
  const work = await Deno.makeTempDir({ dir: lab.dir, prefix: "fig2-" });
  const template = await writeTemplate(work, shape.lines);
  const lease = { KILN_STORE_LEASE_SECONDS: String(shape.leaseSeconds) };
  const writerHome = join(work, "writer");
  const localHome = join(work, "local");
  const envOf = (mode: Mode, home: string) => lab.env(mode, PREFIX, home, lease);
  const storeRun = await interruptedRun(envOf("store", writerHome), template);
  const localRun = await interruptedRun(envOf("local", localHome), template);
  let leaseFreeAt = performance.now() + shape.leaseSeconds * 1000 + 300;

  const cases: { name: ResumeCase; mode: Mode; home: () => Promise<string>; run: string }[] = [
    {
      name: "store, same runner",
      mode: "store",
      home: () => Promise.resolve(writerHome),
      run: storeRun,
    },
    {
      name: "store, fresh runner",
      mode: "store",
      home: () => Deno.makeTempDir({ dir: work, prefix: "fresh-" }),
      run: storeRun,
    },
    { name: "local .kiln/", mode: "local", home: () => Promise.resolve(localHome), run: localRun },
  ];
  const samples: ResumeSample[] = [];
  for (let rep = 0; rep < shape.runs; rep++) {
    for (const c of cases) {
      const home = await c.home();
      if (c.mode === "store") {
        const wait = leaseFreeAt - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await lab.s3.resetCalls();
      }
      const t0 = performance.now();
      const kiln = watchKiln(["build", "--resume", c.run], {
        env: { ...envOf(c.mode, home), KILN_CRASH_AFTER: "RunResumed" },
      });
      await kiln.waitFor(/Resuming run \S+ after event (\d+)/);
      const seconds = (performance.now() - t0) / 1000;
      await kiln.done();
      if (c.mode === "store") leaseFreeAt = performance.now() + shape.leaseSeconds * 1000 + 300;
      const events = Number(/Resuming run \S+ after event (\d+)/.exec(kiln.output())![1]);
      const requests = c.mode === "store" ? await lab.s3.calls() : {};
      samples.push({ case: c.name, seconds, events, requests });
    }
  }
  const medians = Object.fromEntries(
    cases.map((
      c,
    ) => [c.name, median(samples.filter((s) => s.case === c.name).map((s) => s.seconds))]),
  ) as Record<ResumeCase, number>;
  return {
    events: countEvents(writerHome, storeRun),
    samples,
    medians,
    profile: await profile(lab, storeRun),
  };
}
