/**
 * SIGINT or SIGTERM to `kiln build` during post-processing — a sleeping
 * shell-local, a compress of a large file — undoes the build as during
 * provisioning, even with -on-error=abort.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import { filesUnder } from "../../../tests/support/ledger_honesty.ts";
import { watchKiln } from "../../../tests/support/kiln_process.ts";
import { fileTarget, honest, inLab, randomFile, runIdIn } from "./lab.ts";

/** One signal at one moment of post-processing. */
export interface SignalCase {
  name: string;
  signal: Deno.Signal;
  flags?: string[];
  /** Size of a source file to copy and compress (MiB); else a small content target. */
  bigMiB?: number;
  fast?: boolean;
}

/** The signal trials, the fast one marked. */
export const signalCases: SignalCase[] = [
  { name: "SIGINT, shell-local post-processor sleeping", signal: "SIGINT", fast: true },
  { name: "SIGTERM, shell-local post-processor sleeping", signal: "SIGTERM" },
  {
    name: "SIGINT with -on-error=abort, shell-local sleeping",
    signal: "SIGINT",
    flags: ["-on-error=abort"],
  },
  { name: "SIGINT during a compress of 128 MiB", signal: "SIGINT", bigMiB: 128 },
];

/** Signals `kiln build` during post-processing and checks nothing is left. */
export function signalTrial(sc: SignalCase): Promise<TrialOutcome> {
  const template = (out: string) => ({
    builders: [
      sc.bigMiB ? fileTarget(out, { source: join(out, "..", "big.bin") }) : fileTarget(out),
    ],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: join(out, "disk.sum") },
      { type: "manifest", output: join(out, "manifest.json") },
      { type: "shell-local", inline: ["echo pp-sleeping", "sleep 30"] },
    ]],
  });
  return inLab(template, undefined, async (lab) => {
    const c = new Checks();
    if (sc.bigMiB) await randomFile(join(lab.dir, "big.bin"), sc.bigMiB);
    const kiln = watchKiln(["build", ...(sc.flags ?? []), lab.file], {
      cwd: lab.dir,
      home: lab.home,
    });
    try {
      await kiln.waitFor(sc.bigMiB ? /Tarring .* with gzip/ : /pp-sleeping/);
      if (sc.bigMiB) await new Promise((r) => setTimeout(r, 300));
      kiln.process.kill(sc.signal);
      const status = await kiln.done();
      c.expect(status.code === 130, `exit ${status.code}`);
      const runId = runIdIn(kiln.output());
      if (!runId) return { problems: ["no run id"], leaked: 0, lost: 0 };
      const left = [...await filesUnder([lab.out])];
      c.leaked += left.length;
      c.expect(left.length === 0, `left: ${left.join(", ")}`);
      const state = await lab.state(runId);
      c.expect(state.builds.file?.status === "cancelled", `build ${state.builds.file?.status}`);
      await honest(c, lab, runId, "after the signal");
      return c.outcome();
    } finally {
      try {
        kiln.process.kill("SIGKILL");
      } catch {
        // Exited.
      }
      await kiln.done();
    }
  });
}
