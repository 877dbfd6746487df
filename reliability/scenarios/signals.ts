/**
 * Signal scenarios: SIGINT (Ctrl-C) and SIGTERM (a CI timeout) to a real
 * `kiln build` at the moments the crash scenarios kill it — the run must
 * compensate on its own, leave nothing behind, keep no key material, and be
 * marked cancelled (exit 130).
 */
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { interruptTrial } from "../support/interrupt.ts";
import { LAB_NAMES, type LabKind, type LabOptions } from "../support/labs.ts";
import { runScenario } from "../support/trials.ts";

interface Point {
  lab: LabKind;
  line: RegExp;
  labOptions?: LabOptions;
  /** In the fast campaign too. */
  fast?: boolean;
}

const SLOW_FILE_PROVISIONER: LabOptions = {
  provisioners: [{ type: "shell-local", inline: ["echo kiln-slow-provisioner", "sleep 30"] }],
};

const points: Point[] = [
  { lab: "null-ssh", line: /Using ssh communicator/ },
  { lab: "null-ssh", line: /Provisioning with shell script/ },
  { lab: "null-ssh", line: /Uploading .*payload\.bin/, labOptions: { uploadMiB: 96 }, fast: true },
  { lab: "file", line: /kiln-slow-provisioner/, labOptions: SLOW_FILE_PROVISIONER, fast: true },
  { lab: "aws", line: /Creating temporary keypair/ },
  { lab: "aws", line: /Launching a source AWS instance/, fast: true },
  { lab: "aws", line: /Provisioning with shell script/ },
  { lab: "aws", line: /Bundling the volume/ },
  { lab: "aws", line: /Registering the AMI/ },
];

/** The signal group. */
export const signals: Scenario = {
  group: "signal",
  async run(size: CampaignSize) {
    const rows: ScenarioResult[] = [];
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      // The fast campaign sends each signal at a different point.
      const chosen = size === "full"
        ? points
        : points.filter((p) => p.fast).filter((_, i) => (i % 2 === 0) === (signal === "SIGINT"));
      rows.push(
        await runScenario(
          `${signal} during a build → compensated, cancelled, nothing left`,
          chosen,
          (p) => `${LAB_NAMES[p.lab]}, after ${p.line.source}`,
          (p) =>
            interruptTrial({
              lab: p.lab,
              labOptions: p.labOptions,
              interrupt: { line: p.line, delayMs: 0, signal },
              then: "none",
            }),
        ),
      );
    }
    return rows;
  },
};
