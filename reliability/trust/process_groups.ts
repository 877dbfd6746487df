/**
 * Trust rows for local process groups (issue 12, finding 8): a script's
 * SIGTERM trap gets its grace even when its direct child is gone; after
 * `kill -9` of kiln, the script's process group is an orphan that
 * `--resume` stops before it reruns anything (one copy, never two side by
 * side) and `kiln cleanup` stops too; a run whose killed owner is still a
 * zombie resumes at once; and a pid that a ledger entry names but an
 * unrelated process holds now is never signalled. Every trial drives the
 * real CLI against real processes.
 */
import { join } from "node:path";
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { type KilnExit, runIdIn, runKilnIn, spawnKiln } from "../support/kiln_process.ts";
import { lostEvents, recordsOnDisk, verifyLog } from "../support/log_check.ts";
import { checkAftermath } from "../support/aftermath.ts";
import {
  eventually,
  goneWithin,
  type LabScript,
  openProcessLab,
  type ProcessLab,
  running,
  type StepPlace,
  writerRuns,
} from "../support/process_lab.ts";
import { CLI_PATH } from "../../tests/support/kiln_cli.ts";
import { liveProcessStart } from "../../runtime/proc_stat.ts";

/** The trust rows of this topic. */
export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const full = size === "full";
  const places: StepPlace[] = ["provisioners", "post-processors"];
  const repeat = <T>(items: T[], times: number) =>
    Array.from({ length: times }, () => items).flat();
  // Provisioners: a cancel during post-processing is finding 7's (its outputs must be undone too).
  const trapScripts: LabScript[] = ["trap", "grandchild-trap"];
  return [
    await runScenario(
      "SIGTERM grace reaches the whole process group (trap finishes)",
      full ? repeat(trapScripts, 3) : trapScripts.slice(1),
      (script) => `${script} in a shell-local provisioner`,
      (script) => graceTrial("provisioners", script),
    ),
    await runScenario(
      "kill -9 mid shell-local → --resume stops the orphan first, one copy runs",
      full ? repeat(places, 3) : places.slice(0, 1),
      (place) => `shell-local ${place.slice(0, -1)}`,
      (place) => orphanTrial(place, "resume"),
    ),
    await runScenario(
      "kill -9 mid shell-local → cleanup stops the orphan",
      full ? repeat(places, 3) : places.slice(1),
      (place) => `shell-local ${place.slice(0, -1)}`,
      (place) => orphanTrial(place, "cleanup"),
    ),
    await runScenario(
      "--resume right after kill -9 (zombie owner) is not refused",
      full ? [0, 1, 2, 3, 4] : [0],
      (n) => `trial ${n + 1}`,
      () => zombieOwnerTrial(),
    ),
    await runScenario(
      "a reused pid is never signalled",
      full ? repeat(["resume", "cleanup"] as const, 3) : ["resume" as const],
      (then) => `the finished group's pid reused, then ${then}`,
      (then) => reusedPidTrial(then),
    ),
  ];
}

/** SIGTERM to kiln while the script waits: its trap (1 s) finishes, then kiln exits 130. */
async function graceTrial(place: StepPlace, script: LabScript): Promise<TrialOutcome> {
  const lab = await openProcessLab(place, script);
  const c = new Checks();
  try {
    const proc = spawnKiln(["build", ...lab.buildArgs], lab.spawn());
    const ready = await proc.waitForLine(/: ready$/, 60_000);
    c.expect(ready !== undefined, "the script never said ready");
    const pids = await lab.recordedPids();
    proc.kill("SIGTERM");
    const first = await proc.done;
    c.expect(first.code === 130, `exit ${first.code} after SIGTERM, expected 130`);
    const trapped = await Deno.readTextFile(lab.trapped).catch(() => "(nothing)");
    c.expect(trapped === "done\n", `the TERM trap did not finish: trapped = ${trapped.trim()}`);
    for (const pid of pids) c.expect(!running(pid), `process ${pid} outlived kiln`);
    await finish(c, lab, first, [first]);
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/**
 * kill -9 while the ticker runs: the orphan keeps ticking; then `--resume`
 * (it must stop the orphan before the rerun: the ticks show one writer,
 * then the other) or `cleanup` (the orphan stops).
 */
async function orphanTrial(place: StepPlace, then: "resume" | "cleanup"): Promise<TrialOutcome> {
  const lab = await openProcessLab(place, "ticker");
  const c = new Checks();
  let orphan: Survivor | undefined;
  try {
    const first = await killMidTicker(lab, c);
    orphan = survivor(await lab.firstTicker());
    if (!first || !orphan) return c.outcome();
    const before = (await lab.ticks()).length;
    c.expect(
      await eventually(async () => (await lab.ticks()).length > before, 2_000),
      "the orphan does not tick after kill -9: nothing was tested",
    );
    const next = await runKilnIn(
      then === "resume" ? ["build", "--resume", first.runId!] : ["cleanup", first.runId!],
      lab.spawn(),
    );
    c.expect(next.code === 0, `${then} exited ${next.code}: ${gist(next)}`);
    c.expect(await goneWithin(orphan.pid, 1_000), `the orphan still runs after ${then}`);
    const stopAt = next.stdout.search(/Stopping process group \d+/);
    c.expect(stopAt >= 0, `${then} did not say it stopped the orphan: ${gist(next)}`);
    const runs = writerRuns(await lab.ticks());
    if (then === "resume") {
      const rerun = next.stdout.search(/Running local shell script/);
      c.expect(rerun < 0 || stopAt < rerun, "the rerun started before the orphan was stopped");
      c.expect(
        runs.length === 2 && runs[0][0] === orphan.pid && runs[1][1] === 5,
        `ticks interleave or are incomplete (writer, ticks): ${JSON.stringify(runs)}`,
      );
    } else {
      const settled = (await lab.ticks()).length;
      await new Promise((r) => setTimeout(r, 300));
      c.expect((await lab.ticks()).length === settled, "ticks still grow after cleanup");
      c.expect(runs.length === 1, `a second writer appeared: ${JSON.stringify(runs)}`);
    }
    await finish(c, lab, first, [first, next], then === "resume" ? "succeeded" : undefined);
    return c.outcome();
  } finally {
    orphan?.kill();
    await lab.close();
  }
}

/**
 * kiln started by a parent that never reaps it, killed with -9 while the
 * ticker runs: the owner of the run lock is now a zombie, and an immediate
 * `--resume` must take the run over rather than refuse it.
 */
async function zombieOwnerTrial(): Promise<TrialOutcome> {
  const lab = await openProcessLab("provisioners", "ticker");
  const c = new Checks();
  const [out, err, pidFile] = ["kiln.out", "kiln.err", "kiln.pid"].map((f) => join(lab.dir, f));
  const parent = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `"$0" run -A "$1" build "$2" > "$3" 2> "$4" & echo $! > "$5"; exec sleep 120`,
      Deno.execPath(),
      CLI_PATH,
      lab.buildArgs[0],
      out,
      err,
      pidFile,
    ],
    cwd: lab.dir,
    env: { KILN_HOME: lab.home, NO_COLOR: "1", TMPDIR: lab.tmp },
  }).spawn();
  let orphan: Survivor | undefined;
  try {
    const started = await eventually(async () => (await lab.ticks()).length > 0, 60_000);
    c.expect(started, "the ticker never started");
    orphan = survivor(await lab.firstTicker());
    const kiln = Number(await Deno.readTextFile(pidFile));
    Deno.kill(kiln, "SIGKILL");
    const zombie = await eventually(() => Promise.resolve(procState(kiln) === "Z"), 2_000);
    c.expect(zombie, `the killed kiln is ${procState(kiln) ?? "gone"}, not a zombie`);
    const killed: KilnExit = {
      code: 137,
      signal: "SIGKILL",
      stdout: await Deno.readTextFile(out).catch(() => ""),
      stderr: await Deno.readTextFile(err).catch(() => ""),
    };
    killed.runId = runIdIn(killed.stderr);
    if (!killed.runId) {
      c.expect(false, `no run id in kiln's output: ${killed.stderr.slice(0, 300)}`);
      return c.outcome();
    }
    const next = await runKilnIn(["build", "--resume", killed.runId], lab.spawn());
    c.expect(
      !/being driven by another kiln process/.test(next.stdout + next.stderr),
      "the resume was refused: the zombie still counted as the lock's owner",
    );
    c.expect(next.code === 0, `--resume exited ${next.code}: ${gist(next)}`);
    if (orphan) c.expect(!running(orphan.pid), "the orphan still runs");
    await finish(c, lab, killed, [killed, next], "succeeded");
    return c.outcome();
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
    orphan?.kill();
    await lab.close();
  }
}

/**
 * The first script's group has ended (kiln reaped it) but its deletion is
 * still pending when kiln is killed; an unrelated process of ours then takes
 * its pid (and leads a group of that number). `--resume` or `cleanup` must
 * leave that process alone, and still stop the ticker's orphan. The freed
 * pid may go to someone else's process first: then the trial starts over.
 */
async function reusedPidTrial(then: "resume" | "cleanup"): Promise<TrialOutcome> {
  let taken = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const outcome = await reusedPidAttempt(then);
    if (typeof outcome !== "string") return outcome;
    taken = outcome;
  }
  return {
    problems: [`could not make a process of ours take the pid: ${taken}`],
    leaked: 0,
    lost: 0,
  };
}

async function reusedPidAttempt(then: "resume" | "cleanup"): Promise<TrialOutcome | string> {
  const lab = await openProcessLab("provisioners", "quick-then-ticker");
  const c = new Checks();
  let orphan: Survivor | undefined;
  let stranger: Stranger | string | undefined;
  try {
    const first = await killMidTicker(lab, c);
    orphan = survivor(await lab.firstTicker());
    if (!first) return c.outcome();
    const pgid = (await recordsOnDisk(lab.home, first.runId!))
      .filter((r) => r.type === "ResourceCreated" && r.data.kind === "local.process_group")
      .map((r) => r.data.data as { pgid: number; label?: string })
      .find((d) => d.label?.endsWith("quick.sh"))?.pgid ?? NaN;
    c.expect(Number.isInteger(pgid), "the quick script's group is not in the ledger");
    if (!Number.isInteger(pgid)) return c.outcome();
    stranger = await spawnWithPid(pgid);
    if (typeof stranger === "string") return stranger;
    const next = await runKilnIn(
      then === "resume" ? ["build", "--resume", first.runId!] : ["cleanup", first.runId!],
      lab.spawn(),
    );
    c.expect(next.code === 0, `${then} exited ${next.code}: ${gist(next)}`);
    await new Promise((r) => setTimeout(r, 200));
    c.expect(running(stranger.pid), `${then} signalled pid ${pgid}, now an unrelated process`);
    if (orphan) {
      c.expect(await goneWithin(orphan.pid, 1_000), `the ticker's orphan still runs after ${then}`);
    }
    await finish(c, lab, first, [first, next], then === "resume" ? "succeeded" : undefined);
    return c.outcome();
  } finally {
    if (typeof stranger === "object") await stranger.stop();
    orphan?.kill();
    await lab.close();
  }
}

/** Builds until the ticker ticks, then kill -9; undefined (and a problem) if that failed. */
async function killMidTicker(lab: ProcessLab, c: Checks): Promise<KilnExit | undefined> {
  const proc = spawnKiln(["build", ...lab.buildArgs], lab.spawn());
  const seen = await proc.waitForLine(/: ticking$/, 60_000);
  c.expect(seen !== undefined, "the ticker never started");
  if (seen === undefined) {
    proc.kill("SIGKILL");
    await proc.done;
    return undefined;
  }
  await eventually(async () => (await lab.ticks()).length >= 3, 5_000);
  proc.kill("SIGKILL");
  const first = await proc.done;
  c.expect(first.signal === "SIGKILL", `kiln was not killed: exit ${first.code}`);
  if (!first.runId) {
    c.expect(false, "kiln announced no run id");
    return undefined;
  }
  return first;
}

/** Log, ledger, lost events and the campaign's aftermath. */
async function finish(
  c: Checks,
  lab: ProcessLab,
  first: KilnExit,
  outputs: KilnExit[],
  status?: string,
): Promise<void> {
  const runId = first.runId!;
  const before = await recordsOnDisk(lab.home, runId);
  const log = await verifyLog(lab.home, runId);
  c.expect(log.ok, `log does not verify: ${log.ok ? "" : log.problem}`);
  if (log.ok) {
    const lost = lostEvents(before, first.stdout.split("\n").slice(0, -1), log.records);
    c.lost += lost.count;
    if (status) c.expect(log.state.status === status, `run ended ${log.state.status}`);
  }
  await checkAftermath(c, lab, runId, log.ok ? log.state : undefined, outputs);
}

/** A process of ours holding a chosen pid. */
interface Stranger {
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `sleep 60` with pid `pid`, leading its own session and group, by
 * setting the kernel's last pid just below it from a single-threaded shell
 * that forks right after (kiln's own runtime would spend the pid on a
 * thread). Other processes may fork in between: a few tries. Says why not
 * when the pid could not be had (not root, or another process holds it).
 */
async function spawnWithPid(pid: number): Promise<Stranger | string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (procState(pid) !== undefined) return `pid ${pid} is held by ${describe(pid)}`;
    const shell = new Deno.Command("/bin/sh", {
      args: [
        "-c",
        `echo ${pid - 1} > /proc/sys/kernel/ns_last_pid || exit 1; setsid sleep 60 & echo $!; wait`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = shell.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const got = Number(text.trim());
    const stop = async () => {
      if (got > 0) killQuietly(got);
      await shell.status;
      await reader.cancel().catch(() => {});
    };
    if (got === pid) return { pid, stop };
    await stop();
    if (text === "") return "/proc/sys/kernel/ns_last_pid is not writable (needs root)";
  }
  return `other processes kept taking pid ${pid}`;
}

/** What a pid is now, for a failure message. */
function describe(pid: number): string {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return `${stat.slice(stat.indexOf("("), stat.lastIndexOf(")") + 1)} (${procState(pid)})`;
  } catch {
    return "nothing";
  }
}

/** A process a trial must not leave behind, named by pid and start time (never a reused pid). */
interface Survivor {
  pid: number;
  kill(): void;
}

function survivor(pid: number | undefined): Survivor | undefined {
  const start = pid === undefined ? undefined : liveProcessStart(pid);
  if (pid === undefined || start === undefined) return undefined;
  return {
    pid,
    kill: () => {
      if (liveProcessStart(pid) === start) killQuietly(pid);
    },
  };
}

function procState(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}

function killQuietly(target: number): void {
  try {
    Deno.kill(target, "SIGKILL");
  } catch {
    // Gone.
  }
}

function gist(out: KilnExit): string {
  return (out.stdout + out.stderr).trim().split("\n").slice(-4).join(" | ").slice(0, 500);
}
