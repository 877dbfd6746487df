/**
 * The qemu group: a real qemu build (TCG, the fast test guest) killed with
 * SIGKILL after each of its durable events — every step's start and end,
 * the VM's write-ahead intent and record, the boot command, the
 * provisioners, the VM's removal — then finished by `--resume` or undone
 * by `kiln cleanup`. A resume must reattach to the running VM (one VM,
 * except that a VM killed mid-boot-command is restarted), finish a whole
 * image and verify; a cleanup must leave no qemu process, output directory
 * or work directory. `fast` runs a representative few.
 */
import { join } from "node:path";
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { verifyLog } from "../support/log_check.ts";
import {
  diskBuilder,
  events,
  exists,
  isoBuilder,
  onlyRun,
  type QemuLab,
  qemuPidsOfRun,
  withQemuLab,
} from "../../tests/builders/qemu/lab.ts";
import { checkImage } from "../../hypervisors/qemu/img.ts";

/** What the build boots. */
export type Source = "disk" | "iso";
/** How the killed run is finished. */
export type Then = "resume" | "cleanup";

/** The durable events of a build, as KILN_CRASH_AFTER names them (first occurrence). */
function boundaries(source: Source): string[] {
  const steps = [
    "qemu.workspace",
    "qemu.output_directory",
    "qemu.source",
    "qemu.disk",
    ...(source === "iso" ? ["qemu.http"] : []),
    "qemu.ports",
    "qemu.run",
    "common.connect",
    "common.provision",
    "qemu.shutdown",
    "qemu.convert",
  ];
  const out: string[] = [];
  for (const step of steps) {
    out.push(`StepStarted:${step}`);
    if (step === "qemu.output_directory") {
      out.push("ResourceIntent:qemu.output_directory", "ResourceCreated:qemu.output_directory");
    }
    if (step === "qemu.run") {
      out.push("ResourceIntent:qemu.vm", "ResourceCreated:qemu.vm", "VmStarted");
      if (source === "iso") out.push("BootCommandTyped");
    }
    if (step === "common.connect") out.push("CommunicatorConnected");
    if (step === "common.provision") out.push("ProvisionerStarted", "ProvisionerSucceeded");
    if (step === "qemu.shutdown") out.push("ResourceDeleted:qemu.vm");
    out.push(`StepSucceeded:${step}`);
  }
  return out;
}

async function template(lab: QemuLab, source: Source): Promise<string> {
  const base = source === "iso"
    ? isoBuilder(lab.guest, {
      boot_command: [
        "kiln kiln.install=vda kiln.fetch=http://{{ .HTTPIP }}:{{ .HTTPPort }}/f<enter>",
      ],
      http_content: { "/f": "x\n" },
    })
    : diskBuilder(lab.guest);
  return await lab.template(base, {
    provisioners: [
      { type: "shell", inline: ["echo provisioned > /run/p0"] },
      { type: "shell", inline: ["cat /run/p0"] },
    ],
  });
}

/** One trial: a build killed after `boundary`, then resumed or cleaned up. */
export async function qemuTrial(
  source: Source,
  boundary: string,
  then: Then,
): Promise<TrialOutcome> {
  return await withQemuLab(async (lab) => {
    const checks = new Checks();
    const file = await template(lab, source);
    const killed = await lab.build([file], { KILN_CRASH_AFTER: boundary });
    checks.expect(killed.signal === "SIGKILL", `not killed after ${boundary}: exit ${killed.code}`);
    const runId = onlyRun(lab.home);
    const out = join(lab.dir, "out");
    const work = join(lab.home, "runs", runId, "work");
    if (then === "resume") {
      const resumed = await lab.build(["--resume", runId]);
      checks.expect(
        resumed.code === 0,
        `resume exited ${resumed.code}: ${(resumed.stdout + resumed.stderr).slice(-600)}`,
      );
      const disk = join(out, "packer-qemu");
      if (exists(disk)) {
        const check = await checkImage(disk).catch((e) => String(e));
        checks.expect(
          typeof check !== "string" && check.ok,
          `qemu-img check: ${typeof check === "string" ? check : JSON.stringify(check.raw)}`,
        );
      } else {
        checks.expect(false, "no image after the resume");
      }
      const logged = await events(lab.home, runId);
      const vms = logged.filter((e) => e.type === "VmStarted").length;
      // Only keys half-typed force a second boot.
      const allowed = source === "iso" && boundary !== "BootCommandTyped" &&
          ["ResourceCreated:qemu.vm", "VmStarted"].includes(boundary)
        ? 2
        : 1;
      checks.expect(vms <= allowed, `${vms} VMs started (at most ${allowed})`);
      checks.expect(
        /provisioned/.test(killed.stdout + resumed.stdout),
        "the second provisioner did not see the first one's work",
      );
    } else {
      const clean = await lab.kiln(["cleanup", runId]);
      checks.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stderr.slice(-400)}`);
      if (exists(out)) checks.leaked++;
      if (exists(work) && [...Deno.readDirSync(work)].length > 0) checks.leaked++;
    }
    const left = qemuPidsOfRun(runId);
    checks.leaked += left.length;
    checks.expect(left.length === 0, `qemu still running: ${left.join(", ")}`);
    const log = await verifyLog(lab.home, runId);
    checks.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    return checks.outcome();
  });
}

/** The qemu group. */
export const qemu: Scenario = {
  group: "qemu",
  async run(size: CampaignSize): Promise<ScenarioResult[]> {
    const full = size === "full";
    const pick = (all: string[], few: string[]) => full ? all : few;
    const rows: ScenarioResult[] = [];
    for (const then of ["resume", "cleanup"] as Then[]) {
      rows.push(
        await runScenario(
          `kill -9 at every durable event of a qemu disk-image build → ${
            then === "resume" ? "--resume reattaches and finishes" : "cleanup leaves nothing"
          }`,
          pick(
            boundaries("disk"),
            then === "resume" ? ["ProvisionerSucceeded"] : ["ResourceCreated:qemu.vm"],
          ),
          (b) => `after ${b}`,
          (b) => qemuTrial("disk", b, then),
          { deadlineMs: 420_000 },
        ),
      );
    }
    rows.push(
      await runScenario(
        "kill -9 around the VM and its boot command (ISO build) → --resume finishes",
        pick(
          boundaries("iso").filter((b) => /qemu\.(run|vm|http)|VmStarted|BootCommand/.test(b)),
          ["VmStarted"],
        ),
        (b) => `after ${b}`,
        (b) => qemuTrial("iso", b, "resume"),
        { deadlineMs: 420_000 },
      ),
    );
    return rows;
  },
};
