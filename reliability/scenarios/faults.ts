/**
 * Fault scenarios: a disturbed world rather than a killed process. EC2
 * throttling, 5xx bursts and eventual consistency must be ridden out (one
 * instance, one AMI); an instance that never runs must fail clearly and
 * leave nothing; sshd restarting mid-command, a connection dropped
 * mid-upload and a full disk under the event log must stop the run cleanly
 * and let `--resume` finish it; clock jumps must not disturb a log ordered
 * by seq.
 */
import { join } from "node:path";
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { interruptTrial } from "../support/interrupt.ts";
import { type Lab, type LabOptions, openLab } from "../support/labs.ts";
import { runKilnIn } from "../support/kiln_process.ts";
import { lostEvents, verifyLog } from "../support/log_check.ts";
import { checkAftermath } from "../support/aftermath.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { sleep } from "../../runtime/sleep.ts";
import type { FaultOptions } from "../../tests/support/ec2/mod.ts";

/** An amazon-instance build on a faulty emulator: it must succeed as if nothing happened. */
async function ridesOut(faults: FaultOptions, labOptions: LabOptions = {}): Promise<TrialOutcome> {
  const lab = await openLab("aws", { ...labOptions, faults });
  const c = new Checks();
  try {
    const out = await runKilnIn(["build", ...lab.buildArgs], lab.spawn());
    c.expect(out.code === 0, `exit ${out.code}: ${out.stdout.split("\n").slice(-6).join(" | ")}`);
    if (!out.runId) return { problems: ["no run id"], leaked: 0, lost: 0 };
    const log = await verifyLog(lab.home, out.runId);
    c.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    const l = lab.aws!.emulator.ledger();
    c.expect(l.launches === 1, `${l.launches} instances launched`);
    c.expect(
      l.images.length === 1 && l.images[0].state === "available",
      `${l.images.length} AMI(s)`,
    );
    const injected = Object.values(l.faultsInjected).reduce((a, b) => a + b, 0);
    // Invisibility is not an error the emulator counts.
    c.expect(injected > 0 || !!faults.invisibleForDescribes, "no fault was injected");
    if (log.ok) {
      // Steps log each retry as an AwsRetry event; resource handlers as a Ui line.
      const retries = log.records.filter((r) =>
        r.type === "AwsRetry" ||
        (r.type === "Ui" && /\bretry \d+ of\b/.test(String(r.data.message)))
      ).length;
      c.expect(
        !faults.throttleRate && !faults.serverErrorBursts || retries > 0,
        "retries not in the log",
      );
      const lost = lostEvents(log.records, out.stdout.split("\n").slice(0, -1), log.records);
      c.lost += lost.count;
    }
    await checkAftermath(c, lab, out.runId, log.ok ? log.state : undefined, [out]);
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/** An instance stuck in `pending`: a clear error, and nothing left. */
async function neverRunning(): Promise<TrialOutcome> {
  const lab = await openLab("aws", {
    faults: { neverRunning: [1] },
    builder: { aws_polling: { max_attempts: 30 } },
  });
  const c = new Checks();
  try {
    const out = await runKilnIn(["build", ...lab.buildArgs], lab.spawn());
    c.expect(out.code === 1, `exit ${out.code}`);
    c.expect(
      /running|ready|timed? ?out|attempts/i.test(out.stdout),
      `no clear error: ${out.stdout.split("\n").slice(-4).join(" | ")}`,
    );
    if (!out.runId) return { problems: ["no run id"], leaked: 0, lost: 0 };
    const log = await verifyLog(lab.home, out.runId);
    c.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    c.expect(lab.launches() === 1, `${lab.launches()} launches`);
    await checkAftermath(c, lab, out.runId, log.ok ? log.state : undefined, [out]);
    return c.outcome();
  } finally {
    await lab.close();
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return -1;
  }
}

/** Restarts the lab's sshd, which cuts every session (a reboot of the machine). */
async function restartSshd(lab: Lab, downMs: number): Promise<void> {
  await lab.sshd!.stop();
  await sleep(downMs);
  await lab.sshd!.start();
}

/** A small tmpfs as KILN_HOME, so the disk under the event log can be filled on cue. */
async function mountTinyDisk(lab: Lab): Promise<void> {
  await Deno.mkdir(lab.home, { recursive: true });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", lab.home],
    stderr: "piped",
  }).output();
  if (!mount.success) {
    throw new Error(`mount -t tmpfs failed: ${new TextDecoder().decode(mount.stderr).trim()}`);
  }
}

/** Fills KILN_HOME's file system to the last byte. */
async function fillDisk(lab: Lab): Promise<void> {
  const file = await Deno.open(join(lab.home, "filler"), { write: true, create: true });
  try {
    const block = new Uint8Array(4096);
    while (true) await file.write(block);
  } catch (err) {
    if (!(err instanceof Error && /No space left/.test(err.message))) throw err;
  } finally {
    file.close();
  }
}

/** Clock shifts for libfaketime (Debian's `faketime` package), read anew on every call. */
const FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

async function clockEnv(lab: Lab): Promise<Record<string, string>> {
  try {
    await Deno.stat(FAKETIME_LIB);
  } catch {
    throw new Error(`${FAKETIME_LIB} is missing: apt-get install faketime`);
  }
  const file = join(lab.dir, "faketime");
  await Deno.writeTextFile(file, "+0\n");
  return {
    LD_PRELOAD: FAKETIME_LIB,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_NO_CACHE: "1",
    // NTP and a laptop waking up move the wall clock, never the monotonic one.
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
  };
}

/**
 * The SDK's default of 3 attempts (Packer's too) gives up within a 4-call
 * burst or a few throttled calls in a row: these builds set Packer's
 * `max_retries`, as a user facing a throttled account does.
 */
const PATIENT: LabOptions = { builder: { max_retries: 20 } };

/** The fault group. */
export const faults: Scenario = {
  group: "fault",
  async run(size: CampaignSize) {
    const full = size === "full";
    const seeds = full ? [1, 3, 4] : [1];
    const rows: ScenarioResult[] = [];
    for (const rate of full ? [0.1, 0.3, 0.6] : [0.3]) {
      rows.push(
        await runScenario(
          `EC2 throttling at ${rate * 100} % → the build rides it out`,
          seeds,
          (seed) => `seed ${seed}`,
          (seed) => ridesOut({ throttleRate: rate, seed }, PATIENT),
        ),
      );
    }
    rows.push(
      await runScenario(
        "EC2 5xx bursts → the build rides them out",
        full ? [3, 8, 12, 16] : [10],
        (start) => `burst of 4 from call ${start}`,
        (start) =>
          ridesOut({ serverErrorBursts: [{ startCall: start, length: 4, status: 500 }] }, PATIENT),
      ),
    );
    rows.push(
      await runScenario(
        "EC2 eventual consistency (new resources invisible to Describe)",
        full ? [1, 2, 3] : [2],
        (n) => `invisible for ${n} describe(s)`,
        (n) => ridesOut({ invisibleForDescribes: n }),
      ),
    );
    if (full) {
      rows.push(
        await runScenario(
          "an instance that never reaches `running` → clear error, nothing left",
          [1, 2],
          (n) => `trial ${n}`,
          () => neverRunning(),
        ),
      );
    }
    rows.push(
      await runScenario(
        "sshd restarting mid-command → clear error, --resume finishes",
        full ? [200, 800, 2000] : [200],
        (ms) => `sshd down ${ms} ms`,
        (downMs) =>
          interruptTrial({
            lab: "null-ssh",
            labOptions: { longCommandSeconds: 3 },
            interrupt: { fault: "sshd restarting" },
            then: "resume",
            // Keep the build as it failed, so --resume continues it instead of starting over.
            flags: ["-on-error=abort"],
            during: async (lab) => {
              const started = join(lab.dir, "long-command-started");
              const deadline = Date.now() + 60_000;
              while (await sizeOf(started) < 0 && Date.now() < deadline) await sleep(10);
              await restartSshd(lab, downMs);
            },
            firstSays: /connection|closed|lost|disconnect/i,
          }),
      ),
    );
    rows.push(
      await runScenario(
        "connection dropped mid-upload → clear error, --resume redoes only the upload",
        full ? ["scp", "sftp", "scp"] : ["scp"],
        (m) => m,
        (method) =>
          interruptTrial({
            lab: "null-ssh",
            labOptions: { uploadMiB: 128, builder: { ssh_file_transfer_method: method } },
            interrupt: { fault: "a dropped connection" },
            then: "resume",
            flags: ["-on-error=abort"],
            during: async (lab, proc) => {
              if (!await proc.waitForLine(/Uploading .*payload\.bin/)) return;
              const target = join(lab.dir, "remote", "payload.bin");
              const deadline = Date.now() + 60_000;
              while (await sizeOf(target) <= 0 && Date.now() < deadline) await sleep(5);
              await lab.sshd!.stop();
              await proc.done;
              await lab.sshd!.start();
            },
            firstSays: /Upload failed|connection|closed/i,
          }),
      ),
    );
    rows.push(
      await runScenario(
        "disk full under the event log → stops cleanly, resumable once space is back",
        full
          // Early enough that the rest of the log outgrows the page tmpfs already gave it.
          ? [/Waiting for SSH/, /Connected to SSH/, /Uploading/]
          : [/Uploading/],
        (line) => `disk filled after ${line.source}`,
        (line) =>
          interruptTrial({
            lab: "null-ssh",
            interrupt: { fault: "a full disk" },
            then: "resume",
            flags: ["-on-error=abort"],
            prepare: (lab) => mountTinyDisk(lab),
            during: async (lab, proc) => {
              if (!await proc.waitForLine(line)) return;
              // Held still while the disk fills: otherwise a fast build can finish first.
              proc.kill("SIGSTOP");
              try {
                await fillDisk(lab);
              } finally {
                proc.kill("SIGCONT");
              }
            },
            beforeRecovery: (lab) => Deno.remove(join(lab.home, "filler")),
            dispose: async (lab) => {
              await new Deno.Command("umount", { args: [lab.home] }).output();
            },
            firstSays: /cannot write the run log .*No space left on device.*--resume/,
          }),
      ),
    );
    rows.push(
      await runScenario(
        "clock jumps (libfaketime) mid-build, then kill -9 → --resume finishes",
        full ? ["-3d", "+400d", "-10m", "+1h"] : ["-3d"],
        (jump) => `wall clock ${jump}`,
        (jump) => {
          let env: Record<string, string> = {};
          return interruptTrial({
            lab: "null-ssh",
            // The long command keeps the build alive past the kill even on a loaded machine.
            labOptions: { longCommandSeconds: 2 },
            interrupt: { line: /Provisioning with shell script/, delayMs: 300, signal: "SIGKILL" },
            then: "resume",
            prepare: async (lab) => {
              env = await clockEnv(lab);
            },
            get env() {
              return env;
            },
            during: async (lab, proc) => {
              if (await proc.waitForLine(/Connected to SSH/)) {
                await Deno.writeTextFile(join(lab.dir, "faketime"), `${jump}\n`);
              }
            },
          });
        },
      ),
    );
    return rows;
  },
};
