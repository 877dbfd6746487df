/**
 * Figure 1: many null builds at once, every run in one shared store, against
 * the same builds with `.kiln/` on local disk. Each kiln process is one run
 * of `buildsPerRun` parallel null builds, each build running three
 * shell-local provisioners that print `lines` lines. Every process records
 * how long each durable append blocked (KILN_BENCH_APPEND_LOG, see
 * runtime/event_log.ts), so the latency is the writer's own, not a guess
 * from outside.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchLab, Mode } from "./lab.ts";
import { quantile } from "./stats.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** The shape of figure 1. */
export interface ConcurrentShape {
  processes: number;
  buildsPerRun: number;
  lines: number;
}

/** Figure 1's numbers for one mode and one repetition. */
export interface ConcurrentResult {
  mode: Mode;
  processes: number;
  builds: number;
  events: number;
  /** From the first process started to the last one ended. */
  wallSeconds: number;
  eventsPerSecond: number;
  /** From the first record's ts to the last one's, over all runs (no process start-up). */
  logWindowSeconds: number;
  eventsPerSecondInLog: number;
  durableAppends: number;
  appendP50Ms: number;
  appendP99Ms: number;
  appendMaxMs: number;
  /** User + system CPU of all kiln processes, and of the emulator while they ran. */
  kilnCpuSeconds: number;
  emulatorCpuSeconds: number;
  failed: number;
}

/** Writes the figure's template into `dir`. */
export async function writeConcurrentTemplate(dir: string, shape: ConcurrentShape) {
  const file = join(dir, "concurrent.json");
  const print = (n: number) => `seq 1 ${shape.lines} | sed 's/^/provisioner ${n} line /'`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      builders: Array.from(
        { length: shape.buildsPerRun },
        (_, i) => ({ name: `b${i}`, type: "null", communicator: "none" }),
      ),
      provisioners: [1, 2, 3].map((n) => ({ type: "shell-local", inline: [print(n)] })),
    }),
  );
  return file;
}

/** GNU time, for each process's CPU; without it the CPU column is left empty. */
const GNU_TIME = existsSync("/usr/bin/time");

async function timedKiln(args: string[], env: Record<string, string>, cpuFile: string) {
  const argv = [Deno.execPath(), "run", "-A", CLI, ...args];
  const out = await new Deno.Command(GNU_TIME ? "/usr/bin/time" : argv[0], {
    args: GNU_TIME ? ["-f", "%U %S", "-o", cpuFile, ...argv] : argv.slice(1),
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  let cpu = NaN;
  if (GNU_TIME) {
    const [user, sys] = (await Deno.readTextFile(cpuFile)).trim().split("\n").at(-1)!.split(" ")
      .map(Number);
    cpu = user + sys;
  }
  return { code: out.code, cpu, stderr: new TextDecoder().decode(out.stderr) };
}

/** Events, and first and last record time, of every run under `home`. */
async function logsUnder(home: string) {
  let events = 0;
  let first = Infinity;
  let last = -Infinity;
  for await (const entry of Deno.readDir(join(home, "runs"))) {
    const text = await Deno.readTextFile(join(home, "runs", entry.name, "events.jsonl"));
    const lines = text.trimEnd().split("\n");
    events += lines.length;
    first = Math.min(first, Date.parse(JSON.parse(lines[0]).ts));
    last = Math.max(last, Date.parse(JSON.parse(lines.at(-1)!).ts));
  }
  return { events, seconds: (last - first) / 1000 };
}

/** Runs figure 1 once in `mode`; store runs go under `prefix`. */
export async function concurrentBuilds(
  lab: BenchLab,
  mode: Mode,
  prefix: string,
  template: string,
  shape: ConcurrentShape,
): Promise<ConcurrentResult> {
  const work = await Deno.makeTempDir({ dir: lab.dir, prefix: `fig1-${mode}-` });
  const home = join(work, "home");
  const emulatorBefore = lab.s3.cpuSeconds();
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: shape.processes }, (_, i) =>
      timedKiln(
        ["build", template],
        lab.env(mode, prefix, home, { KILN_BENCH_APPEND_LOG: join(work, `append-${i}.txt`) }),
        join(work, `cpu-${i}.txt`),
      )),
  );
  const wallSeconds = (performance.now() - t0) / 1000;
  const emulatorCpuSeconds = lab.s3.cpuSeconds() - emulatorBefore;
  const failed = outcomes.filter((o) => o.code !== 0);
  if (failed.length > 0) {
    console.error(`${mode}: ${failed.length} builds failed; the first said:\n${failed[0].stderr}`);
  }
  const appends: number[] = [];
  for (let i = 0; i < shape.processes; i++) {
    const text = await Deno.readTextFile(join(work, `append-${i}.txt`)).catch(() => "");
    for (const line of text.split("\n")) if (line) appends.push(Number(line));
  }
  const logs = await logsUnder(home);
  return {
    mode,
    processes: shape.processes,
    builds: shape.processes * shape.buildsPerRun,
    events: logs.events,
    wallSeconds,
    eventsPerSecond: logs.events / wallSeconds,
    logWindowSeconds: logs.seconds,
    eventsPerSecondInLog: logs.events / logs.seconds,
    durableAppends: appends.length,
    appendP50Ms: quantile(appends, 0.5),
    appendP99Ms: quantile(appends, 0.99),
    appendMaxMs: quantile(appends, 1),
    kilnCpuSeconds: outcomes.reduce((sum, o) => sum + o.cpu, 0),
    emulatorCpuSeconds,
    failed: failed.length,
  };
}
