/**
 * The store misbehaving under a running build on the null-over-SSH lab:
 * faults it must ride out (throttling, 5xx bursts, lost answers, slowness),
 * an outage it waits out or stops for, and another writer taking the run
 * (a forged lease, a racing append, a real takeover while the runner was
 * frozen). A build that cannot record stops before its next side effect —
 * the marker provisioner p2, which follows the paused p1, must not run —
 * and the store's log never forks.
 */
import { join } from "node:path";
import type { S3FaultOptions } from "../../tests/support/s3/mod.ts";
import { errorMessage } from "../../runtime/errors.ts";
import { sleep } from "../../runtime/sleep.ts";
import { checkAftermath } from "./aftermath.ts";
import { type KilnExit, runKilnIn, spawnKiln } from "./kiln_process.ts";
import { type Lab, type LabOptions, openLab } from "./labs.ts";
import { lostEvents, recordsOnDisk, verifyLog } from "./log_check.ts";
import { checkStore } from "./store_checks.ts";
import { gist, type StoreTally } from "./store_kill.ts";
import { openStoreRunners, type StoreRunners, type StoreSettings } from "./store_runners.ts";
import { Checks, type TrialOutcome } from "./trials.ts";

const COUNTER = "{{template_dir}}/counter";
const PAUSE_STARTED = "long-command-started";

/**
 * Three provisioners: p0, then p1 which marks that it started and pauses
 * (the moment a trial disturbs the store), then p2 — the next side effect.
 */
export const MARKED: LabOptions = {
  provisioners: [
    {
      type: "shell",
      environment_vars: ["SECRET={{user `secret`}}"],
      inline: [`echo p0 >> ${COUNTER}`, 'echo "using $SECRET"'],
    },
    {
      type: "shell",
      inline: [`touch {{template_dir}}/${PAUSE_STARTED}`, "sleep 2", `echo p1 >> ${COUNTER}`],
    },
    { type: "shell", inline: [`echo p2 >> ${COUNTER}`, "echo marker p2 ran"] },
  ],
};

/** How the store is disturbed. */
export type Disturbance =
  /** Faults from the first request on; the build must succeed. */
  | { faults: S3FaultOptions }
  /** Offline for `ms` once p1 paused; the build waits and succeeds. */
  | { outageMs: number }
  /** Offline past KILN_STORE_WAIT_SECONDS once p1 paused; the build stops, another runner resumes. */
  | { outage: "beyond the wait" }
  /** Someone else takes the run once p1 paused; the runner stops before p2. */
  | { takeover: "forged lease" | "racing append" | "frozen runner" };

/** Whether `path` appeared before `ended` resolved (or a minute passed). */
async function waitForFile(path: string, ended: Promise<unknown>): Promise<boolean> {
  let over = false;
  ended.then(() => over = true, () => over = true);
  const deadline = Date.now() + 60_000;
  while (!over && Date.now() < deadline) {
    if (await Deno.stat(path).then(() => true, () => false)) return true;
    await sleep(20);
  }
  return false;
}

function counts(counter: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of counter) out[p] = (out[p] ?? 0) + 1;
  return out;
}

/** Runs one disturbed build and checks it. */
export async function disturbedTrial(d: Disturbance, tally?: StoreTally): Promise<TrialOutcome> {
  const faulty = "faults" in d;
  const lab = await openLab("null-ssh", faulty ? {} : MARKED);
  const c = new Checks();
  let store: StoreRunners | undefined;
  try {
    const settings: StoreSettings = faulty
      // A slow or throttled store must not cost the lease: renewals are waited out like appends.
      ? { leaseSeconds: 5 }
      : "outage" in d
      ? { leaseSeconds: 1, waitSeconds: 1 }
      : { leaseSeconds: 1 };
    store = await openStoreRunners(lab, settings);
    if (faulty) store.s3.faults.configure(d.faults);
    const proc = spawnKiln(["build", ...lab.buildArgs], store.spawn("a"));
    const paused = faulty
      ? Promise.resolve(false)
      : waitForFile(join(lab.dir, PAUSE_STARTED), proc.done);
    const outputs: KilnExit[] = [];
    let writer = "a";
    let disturbed = "";
    const during = (async () => {
      if (!await paused) return;
      const runId = proc.lines.map((l) => /(\d{8}T\d{6}Z-[0-9a-f]{6})/.exec(l)?.[1]).find(Boolean);
      if ("outageMs" in d) {
        await store!.s3.goOffline(d.outageMs);
      } else if ("outage" in d) {
        await store!.s3.goOffline();
      } else if ("takeover" in d) {
        const id = runId ?? await runIdOnDisk(lab);
        disturbed = await takeOver(d.takeover, store!, lab, proc, id, outputs);
        if (d.takeover === "frozen runner") writer = "b";
      }
    })().catch((err) => c.expect(false, `disturbing the store failed: ${errorMessage(err)}`));
    const first = await proc.done;
    await during;
    store.s3.goOnline();
    outputs.unshift(first);
    const runId = first.runId ?? await runIdOnDisk(lab);
    if (!runId) {
      c.expect(false, `no run (exit ${first.code}): ${gist(first)}`);
      return c.outcome();
    }
    const said = first.stdout + first.stderr;
    const stored = store.storedRecords(runId);
    const onDisk = await recordsOnDisk(lab.home, runId);
    const shown = first.stdout.split("\n").slice(0, -1);
    const stops = "outage" in d || "takeover" in d;
    if (!stops) {
      c.expect(first.code === 0, `the build failed (exit ${first.code}): ${gist(first)}`);
      if ("faults" in d) {
        const injected = [...store.s3.faults.injected.values()].reduce((a, b) => a + b, 0);
        c.expect(injected > 0 || !!d.faults.delayMs, "no fault was injected");
        store.s3.faults.configure({});
      } else {
        c.expect(/is not answering/.test(first.stderr), "the wait was not announced");
        c.expect(/answers again/.test(first.stderr), "the end of the wait was not announced");
      }
    } else {
      // #stop leaves the run as a crash would, temp dir included: swept by the next command on
      // this machine, which in a shared store may never come (another runner continues the run).
      const left = await Array.fromAsync(Deno.readDir(lab.tmp));
      if (left.length > 0 && tally) tally.stoppedTempDirs++;
      if (writer === "a") await sweepStopped(lab, runId, left);
      c.expect(
        first.code === 1,
        `exit ${first.code} ${first.signal ?? ""}, expected 1: ${gist(first)}`,
      );
      const why = "outage" in d
        ? /did not answer .* within 1 s[\s\S]*--resume/
        : d.takeover === "racing append"
        ? /another runner already recorded event \d+/
        : /lost run|could not renew its lease/;
      c.expect(why.test(said), `no clear message (${why.source}): ${gist(first)}`);
      const after = counts(await lab.counter());
      c.expect(
        !/marker p2 ran/.test(first.stdout) && (after.p2 ?? 0) <= (writer === "a" ? 0 : 1),
        `the next side effect ran after the store was lost (p2 ${after.p2 ?? 0}×)`,
      );
    }
    // No fork: the store holds one chain, a prefix of what some writer wrote.
    const storedHashes = stored.map((r) => r.hash);
    const mine = onDisk.map((r) => r.hash);
    if (writer === "a" && !(stops && "takeover" in d && d.takeover === "racing append")) {
      c.expect(
        storedHashes.every((h, i) => mine[i] === h),
        "the store's log is not a prefix of the writer's: it forked",
      );
    }
    // After an outage past the wait or a takeover, another runner finishes the run.
    if (("outage" in d) || ("takeover" in d && d.takeover === "forged lease")) {
      writer = "b";
      const resumed = await runKilnIn(["build", "--resume", runId], store.spawn("b"));
      outputs.push(resumed);
      c.expect(
        resumed.code === 0,
        `--resume by another runner exited ${resumed.code}: ${gist(resumed)}`,
      );
    }
    if ("takeover" in d && d.takeover === "racing append") {
      const replay = await runKilnIn(["replay", runId], store.spawn("reader"));
      outputs.push(replay);
      c.expect(replay.code !== 0, "a log with a foreign segment was read as if whole");
      c.expect(
        /does not continue the log|edited/.test(replay.stderr),
        `no clear refusal: ${gist(replay)}`,
      );
      await checkAftermath(c, lab, runId, undefined, outputs);
      return c.outcome();
    }

    const log = await verifyLog(store.home(writer), runId, store.seals(writer));
    c.expect(log.ok, `the log does not verify: ${log.ok ? "" : log.problem}`);
    const after = log.ok ? log.records : [];
    const state = log.ok ? log.state : undefined;
    c.expect(state?.status === "succeeded", `the run ended ${state?.status}`);
    // Lost: for the writer itself everything it wrote or showed; for a successor what the store had.
    const lost = writer === "a" ? lostEvents(onDisk, shown, after) : lostEvents(stored, [], after);
    c.lost += lost.count;
    if (lost.count) c.expect(false, `${lost.count} event(s) lost, first: ${lost.first}`);
    if (writer !== "a" && tally) {
      const unsent = lostEvents([], shown, after).count;
      tally.shownNotStored += unsent;
      if (unsent > 0) tally.trialsWithUnsentOutput++;
    }
    if (!faulty) {
      const ran = counts(await lab.counter());
      c.expect(ran.p0 === 1, `p0 ran ${ran.p0 ?? 0}×`);
      c.expect(ran.p2 === 1, `p2 ran ${ran.p2 ?? 0}×`);
    }
    if (disturbed) c.expect(false, disturbed);
    outputs.push(await checkStore(c, store, runId, writer, { finished: true }));
    await checkAftermath(
      c,
      {
        ...lab,
        home: store.home(writer),
        tmp: store.tmp(writer),
        outputs: writer === "a" ? lab.outputs : [lab.home, lab.tmp],
      },
      runId,
      state,
      outputs,
    );
    return c.outcome();
  } catch (err) {
    c.expect(false, `trial error: ${errorMessage(err)}`);
    return c.outcome();
  } finally {
    await store?.close();
    await lab.close();
  }
}

/** Removes what the stopped runner left in its TMPDIR (counted in the row's note instead). */
async function sweepStopped(lab: Lab, runId: string, left: Deno.DirEntry[]): Promise<void> {
  for (const e of left) await Deno.remove(join(lab.tmp, e.name), { recursive: true });
  await Deno.remove(join(lab.home, "runs", runId, "tmp")).catch(() => {});
}

async function runIdOnDisk(lab: Lab): Promise<string | undefined> {
  try {
    for await (const e of Deno.readDir(join(lab.home, "runs"))) if (e.isDirectory) return e.name;
  } catch {
    // Not created yet.
  }
  return undefined;
}

/**
 * Takes run `runId` from runner a as `how` says, while a is in p1's pause;
 * returns a problem with the disturbance itself, or "".
 */
async function takeOver(
  how: "forged lease" | "racing append" | "frozen runner",
  store: StoreRunners,
  lab: Lab,
  proc: ReturnType<typeof spawnKiln>,
  runId: string | undefined,
  outputs: KilnExit[],
): Promise<string> {
  if (!runId) return "no run id to take over";
  if (how === "forged lease") {
    // Another runner's lease, as the bucket would show it; that runner then dies too.
    store.write(
      runId,
      "lease.json",
      new TextEncoder().encode(JSON.stringify({
        owner: "someone-else",
        host: "runner-x",
        pid: 4242,
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      })),
    );
    return "";
  }
  if (how === "racing append") {
    // Let a's output reach the store, then append the event a would write next.
    const deadline = Date.now() + 5_000;
    let last = -1;
    while (Date.now() < deadline) {
      await sleep(300);
      const disk = await recordsOnDisk(lab.home, runId);
      const stored = store.storedRecords(runId);
      last = stored.at(-1)?.seq ?? -1;
      if (last === disk.at(-1)?.seq) break;
    }
    store.write(
      runId,
      `log/${String(last + 1).padStart(12, "0")}`,
      new TextEncoder().encode("{}\n"),
    );
    return "";
  }
  // Frozen (a laptop lid closed) past its lease; another runner takes the run and finishes it.
  proc.kill("SIGSTOP");
  try {
    const b = await runKilnIn(["build", "--resume", runId], store.spawn("b"));
    outputs.push(b);
    if (b.code !== 0) return `the runner taking over exited ${b.code}: ${gist(b)}`;
  } finally {
    proc.kill("SIGCONT");
  }
  return "";
}
