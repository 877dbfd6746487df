/**
 * A file that was at the target before the run survives every way a build
 * can fail: a missing source, a failing provisioner or post-processor, each
 * with -on-error=cleanup and with abort followed by `kiln cleanup`, and a
 * kill right after the write-ahead intent.
 */
import { join } from "node:path";
import { Checks, type TrialOutcome } from "../../support/trials.ts";
import type { KilnCliOutput } from "../../../tests/support/kiln_cli.ts";
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

/** One way for a build to fail with the user's file at its target. */
export interface FailingCase {
  name: string;
  template: (out: string) => Record<string, unknown>;
  flags?: string[];
  env?: Record<string, string>;
  /** Run `kiln cleanup` afterwards. */
  cleanup?: boolean;
  /** The target's content afterwards. */
  expect: string[];
  fast?: boolean;
}

/** The failing builds, the fast ones marked. */
export const failingCases: FailingCase[] = [
  {
    name: "missing source",
    template: (out) => ({ builders: [fileTarget(out, { source: "does-not-exist.img" })] }),
    expect: [PRECIOUS],
    fast: true,
  },
  {
    name: "missing source, killed at the intent, then cleanup",
    template: (out) => ({ builders: [fileTarget(out, { source: "does-not-exist.img" })] }),
    env: { KILN_CRASH_AFTER: "ResourceIntent" },
    cleanup: true,
    expect: [PRECIOUS],
  },
  {
    name: "provisioner fails",
    template: (out) => ({
      builders: [fileTarget(out)],
      provisioners: [{ type: "shell-local", inline: ["exit 4"] }],
    }),
    expect: [NEW],
  },
  {
    name: "provisioner fails, -on-error=abort, then cleanup",
    template: (out) => ({
      builders: [fileTarget(out)],
      provisioners: [{ type: "shell-local", inline: ["exit 4"] }],
    }),
    flags: ["-on-error=abort"],
    cleanup: true,
    expect: [NEW],
    fast: true,
  },
  {
    name: "post-processor fails",
    template: (out) => ({
      builders: [fileTarget(out)],
      "post-processors": [[
        { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
        { type: "shell-local", inline: ["exit 4"] },
      ]],
    }),
    expect: [NEW],
  },
  {
    name: "post-processor fails, -on-error=abort, then cleanup",
    template: (out) => ({
      builders: [fileTarget(out)],
      "post-processors": [[
        { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
        { type: "shell-local", inline: ["exit 4"] },
      ]],
    }),
    flags: ["-on-error=abort"],
    cleanup: true,
    expect: [NEW],
  },
];

/** Runs one failing case and checks the user's file and the ledger. */
export function failingTrial(fc: FailingCase): Promise<TrialOutcome> {
  return inLab(fc.template, plantPrecious, async (lab) => {
    const c = new Checks();
    const outputs: KilnCliOutput[] = [];
    const run = await lab.build(fc.flags, fc.env);
    outputs.push(run);
    c.expect(run.code !== 0, `the build did not fail: ${run.stdout.slice(-300)}`);
    const runId = lab.runIdOf(run);
    if (fc.cleanup) {
      const clean = await lab.kiln(["cleanup", runId]);
      outputs.push(clean);
      c.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stdout.slice(-300)}`);
    }
    const target = join(lab.out, "disk.img");
    const now = await text(target);
    c.expect(now !== undefined, "the user's disk.img was deleted");
    if (now !== undefined) {
      c.expect(fc.expect.includes(now), `disk.img holds ${JSON.stringify(now)}`);
    }
    c.expect(
      !outputs.some((o) => o.stdout.includes(`Deleted ${target}`)),
      "kiln said it deleted disk.img",
    );
    await honest(c, lab, runId, "afterwards");
    noStackTrace(c, outputs);
    return c.outcome();
  });
}
