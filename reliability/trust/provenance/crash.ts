/**
 * `kill -9` after every event of a file build (provisioner, compress,
 * checksum), then `kiln cleanup`: the user's file at the target stays; the
 * run's own files go unless the build had finished; the ledger is honest.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import { filesUnder } from "../../../tests/support/ledger_honesty.ts";
import { readEventLog } from "../../../runtime/log_reader.ts";
import { eventsPath } from "../../../runtime/paths.ts";
import {
  fileTarget,
  honest,
  inLab,
  NEW,
  noStackTrace,
  plantPrecious,
  PRECIOUS,
  text,
} from "./lab.ts";

function crashTemplate(out: string) {
  return {
    builders: [fileTarget(out)],
    provisioners: [{ type: "shell-local", inline: ["echo provisioned"] }],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: join(out, "disk.sum") },
    ]],
  };
}

/** How many events a whole run of the crash template writes (the last is RunFinished). */
export function eventCount(preexisting: boolean): Promise<number> {
  return inLab(crashTemplate, preexisting ? plantPrecious : undefined, async (lab) => {
    const run = await lab.build();
    if (run.code !== 0) throw new Error(`reference build failed: ${run.stdout}`);
    return (await readEventLog(eventsPath(lab.runIdOf(run), lab.home))).records.length;
  });
}

/** Kills the build after event `seq`, cleans up, checks what is left. */
export function crashTrial(seq: number, preexisting: boolean): Promise<TrialOutcome> {
  return inLab(crashTemplate, preexisting ? plantPrecious : undefined, async (lab) => {
    const c = new Checks();
    const killed = await lab.build([], { KILN_CRASH_AT_SEQ: String(seq) });
    c.expect(killed.signal === "SIGKILL", `not killed after event ${seq}`);
    const runId = lab.runIdOf(killed);
    const state = await lab.state(runId);
    const finished = state.builds.file?.status === "succeeded";
    const clean = await lab.kiln(["cleanup", runId]);
    c.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stdout.slice(-300)}`);
    const target = await text(join(lab.out, "disk.img"));
    if (preexisting) {
      c.expect(target === PRECIOUS || target === NEW, `disk.img: ${JSON.stringify(target)}`);
    } else if (!finished) {
      c.expect(target === undefined, "the run's disk.img outlived cleanup");
    }
    const left = [...await filesUnder([lab.out])].filter((p) => !lab.before.has(p));
    if (!finished) {
      c.leaked += left.length;
      c.expect(left.length === 0, `left: ${left.join(", ")}`);
    }
    await honest(c, lab, runId, "after cleanup");
    noStackTrace(c, [killed, clean]);
    return c.outcome();
  });
}
