/**
 * A runner killed (`kill -9`) in a shared store, then its run continued:
 * resumed or cleaned up by another runner once the lease has run out, or by
 * the same machine again (whose working copy may be ahead of the store), or
 * fought over by several runners at once. Lost events are judged by what
 * the killed runner had acknowledged: for another runner, every record the
 * store held when the runner died; for the same machine, every record on
 * its disk and every line it showed, as the local crash rows judge them.
 */
import { join } from "node:path";
import type { EventRecord } from "../../runtime/events.ts";
import { errorMessage } from "../../runtime/errors.ts";
import { runDir } from "../../runtime/paths.ts";
import { checkAftermath } from "./aftermath.ts";
import { reference } from "./interrupt.ts";
import { type KilnExit, runKilnIn } from "./kiln_process.ts";
import { type Lab, type LabKind, type LabOptions, openLab } from "./labs.ts";
import { lostEvents, recordsOnDisk, verifyLog } from "./log_check.ts";
import { checkStore } from "./store_checks.ts";
import { openStoreRunners, type StoreRunners } from "./store_runners.ts";
import { Checks, type TrialOutcome } from "./trials.ts";

/** One kill-and-continue trial. */
export interface StoreKillTrial {
  lab: LabKind;
  labOptions?: LabOptions;
  /** The first runner SIGKILLs itself right after event `seq` is on its disk. */
  seq: number;
  then: "resume" | "cleanup";
  /** Who continues: another runner ("other"), the same machine ("same"), or N runners at once. */
  by: "other" | "same" | { racing: number };
}

/** Facts a row reports beside pass/fail. */
export interface StoreTally {
  /** Lines the killed runner had shown that were not in the store yet (output is sent in batches). */
  shownNotStored: number;
  /** Trials where that happened. */
  trialsWithUnsentOutput: number;
  /** Trials where a runner that stopped itself (store lost) left its run temp dir on its machine. */
  stoppedTempDirs: number;
}

/** A fresh tally. */
export function newTally(): StoreTally {
  return { shownNotStored: 0, trialsWithUnsentOutput: 0, stoppedTempDirs: 0 };
}

function succeeded(records: EventRecord[]): number[] {
  return records.filter((r) => r.type === "ProvisionerSucceeded" && !r.data.errorCleanup)
    .map((r) => Number(r.data.index));
}

function started(records: EventRecord[]): number[] {
  return records.filter((r) => r.type === "ProvisionerStarted").map((r) => Number(r.data.index));
}

/** The error lines, or else the last lines of a command's output. */
export function gist(out: KilnExit): string {
  const lines = (out.stdout + out.stderr).trim().split("\n");
  const errors = lines.filter((l) => /^--> |errored|[Ee]rror:|^kiln: /.test(l.trim()));
  return (errors.length > 0 ? errors : lines.slice(-3)).join(" | ").slice(0, 500);
}

/** Runs one trial and checks it. */
export async function storeKillTrial(
  t: StoreKillTrial,
  tally: StoreTally = newTally(),
): Promise<TrialOutcome> {
  const ref = t.then === "resume" ? await reference(t.lab, t.labOptions) : undefined;
  const lab = await openLab(t.lab, t.labOptions);
  const c = new Checks();
  let store: StoreRunners | undefined;
  try {
    store = await openStoreRunners(lab);
    const first = await runKilnIn(
      ["build", ...lab.buildArgs],
      store.spawn("a", { KILN_CRASH_AT_SEQ: String(t.seq) }),
    );
    const runId = first.runId;
    if (!runId) {
      c.expect(false, `no run id (exit ${first.code}): ${gist(first)}`);
      return c.outcome();
    }
    c.expect(first.signal === "SIGKILL", `not killed: exit ${first.code}: ${gist(first)}`);
    const onDisk = await recordsOnDisk(lab.home, runId);
    const stored = store.storedRecords(runId);
    const shown = first.stdout.split("\n").slice(0, -1);
    const same = t.by === "same";
    const known = same ? onDisk : stored;
    const doneAtKill = succeeded(known);
    const startedAtKill = started(onDisk);
    const extraSecrets = await keysOf(lab, runId);

    const args = t.then === "resume" ? ["build", "--resume", runId] : ["cleanup", runId];
    const names = same
      ? ["a"]
      : typeof t.by === "object"
      ? Array.from({ length: t.by.racing }, (_, i) => String.fromCharCode(98 + i))
      : ["b"];
    const nexts = await Promise.all(names.map((n) => runKilnIn(args, store!.spawn(n))));
    const winners = names.filter((_, i) => nexts[i].code === 0);
    c.expect(
      winners.length === 1,
      `${winners.length} of ${names.length} runners proceeded: ` +
        nexts.map((o, i) => `${names[i]} exit ${o.code}: ${gist(o)}`).join("; "),
    );
    nexts.forEach((o, i) => {
      if (o.code !== 0 && names.length > 1) {
        c.expect(
          // A loser that came after the winner had finished meets a finished run.
          /another runner|being driven|already succeeded; nothing to resume/.test(o.stderr),
          `runner ${names[i]} lost without saying why: ${gist(o)}`,
        );
      }
    });
    const writer = winners[0] ?? names[0];
    const log = await verifyLog(store.home(writer), runId, store.seals(writer));
    c.expect(log.ok, `the log does not verify: ${log.ok ? "" : log.problem}`);
    const after = log.ok ? log.records : await recordsOnDisk(store.home(writer), runId);

    // Events lost: what the dead runner had acknowledged and the final log lacks.
    const lost = lostEvents(known, same ? shown : [], after);
    c.lost += lost.count;
    if (lost.count > 0) c.expect(false, `${lost.count} event(s) lost, first: ${lost.first}`);
    if (!same) {
      const unsent = lostEvents([], shown, after).count;
      tally.shownNotStored += unsent;
      if (unsent > 0) tally.trialsWithUnsentOutput++;
    }
    const resumes = after.filter((r) => r.type === "RunResumed").length;
    c.expect(resumes <= 1, `${resumes} RunResumed records: more than one runner resumed`);

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
        // An in-flight provisioner runs again on resume; a finished one never; a loser runs none.
        const most = doneAtKill.includes(index) ? 1 : startedAtKill.includes(index) ? 2 : 1;
        c.expect(runs >= 1 && runs <= most, `provisioner ${p} ran ${runs}× (expected 1..${most})`);
      }
    }
    if (t.lab === "aws") {
      const launches = lab.launches();
      c.expect(launches <= 1, `${launches} instances launched`);
      if (t.then === "resume") c.expect(launches === 1, `${launches} instances launched`);
    }
    const reader = await checkStore(c, store, runId, writer, { finished: true, extraSecrets });
    const others = ["a", ...names].filter((n) => n !== writer)
      .flatMap((n) => [store!.home(n), store!.tmp(n)]);
    await checkAftermath(
      c,
      {
        ...lab,
        home: store.home(writer),
        tmp: store.tmp(writer),
        outputs: [...lab.outputs, ...others],
      },
      runId,
      state,
      [first, ...nexts, reader],
      extraSecrets,
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

/** Private keys the run used, which no output may hold. */
async function keysOf(lab: Lab, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  try {
    out["temporary private key"] = await Deno.readTextFile(
      join(runDir(runId, lab.home), "secrets", "ssh_private_key"),
    );
  } catch {
    // No temporary key (null builds, or not created yet).
  }
  if (lab.kind === "null-ssh") {
    out["ssh private key"] = await Deno.readTextFile(join(lab.dir, "client"));
  }
  return out;
}
