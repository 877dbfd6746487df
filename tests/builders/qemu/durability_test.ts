/**
 * Beyond Packer: the VM outlives a `kill -9` of kiln, `--resume`
 * reattaches to it (the same boot of the same guest carries on), `kiln
 * cleanup` powers it off and removes what the run made, Ctrl-C stops it
 * and compensates, and a ledger entry naming another process is never
 * signalled.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  diskBuilder,
  events,
  exists,
  onlyRun,
  type QemuLab,
  qemuPidsOfRun,
  withQemuLab,
} from "./lab.ts";
import { CLI_PATH } from "../../support/kiln_cli.ts";
import { vmHandler, vmTag } from "../../../steps/qemu/vm.ts";
import { DeletionRefused } from "../../../runtime/errors.ts";
import { currentBootId, isGone, procInfo } from "../../../hypervisors/qemu/proc.ts";

const BOOT_ID = "/proc/sys/kernel/random/boot_id";

/** Killed (SIGKILL) right after the first provisioner succeeded, the VM still running. */
async function killedMidProvisioning(lab: QemuLab): Promise<{ runId: string; file: string }> {
  const file = await lab.template(diskBuilder(lab.guest), {
    provisioners: [
      { type: "shell", inline: [`cat ${BOOT_ID} > /run/boot-before`] },
      {
        type: "shell",
        inline: [`test "$(cat /run/boot-before)" = "$(cat ${BOOT_ID})" && echo same-boot`],
      },
    ],
  });
  const killed = await lab.build([file], { KILN_CRASH_AFTER: "ProvisionerSucceeded" });
  assert.equal(killed.signal, "SIGKILL", killed.stdout + killed.stderr);
  const runId = onlyRun(lab.home);
  assert.equal(qemuPidsOfRun(runId).length, 1, "the VM runs on after kiln died");
  return { runId, file };
}

Deno.test("qemu: kill -9 mid-provisioning, then --resume reattaches to the same running guest", async () => {
  await withQemuLab(async (lab) => {
    const { runId } = await killedMidProvisioning(lab);
    const [pid] = qemuPidsOfRun(runId);
    const resumed = await lab.build(["--resume", runId]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /Reattached to the VM/);
    assert.match(resumed.stdout, /same-boot/, "the guest was not rebooted");
    const logged = await events(lab.home, runId);
    const started = logged.filter((e) => e.type === "VmStarted");
    assert.equal(started.length, 1, "one VM for the whole run");
    assert.equal(started[0].data.pid, pid);
    assert.ok(logged.some((e) => e.type === "VmReattached"));
    assert.ok(exists(join(lab.dir, "out", "packer-qemu")), "the image is there");
    assert.deepEqual(qemuPidsOfRun(runId), []);
  });
});

Deno.test("qemu: kill -9 mid-provisioning, then cleanup powers the VM off and removes what the run made", async () => {
  await withQemuLab(async (lab) => {
    const { runId } = await killedMidProvisioning(lab);
    const work = join(lab.home, "runs", runId, "work");
    assert.ok(exists(join(lab.dir, "out")) && exists(work));
    const clean = await lab.kiln(["cleanup", runId]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout + clean.stderr, /Stopped the VM/);
    assert.deepEqual(qemuPidsOfRun(runId), []);
    assert.ok(!exists(join(lab.dir, "out")), "the output directory is removed");
    assert.deepEqual(exists(work) ? [...Deno.readDirSync(work)] : [], []);
    const again = await lab.kiln(["cleanup", runId]);
    assert.equal(again.code, 0, "a second cleanup finds nothing to do");
  });
});

Deno.test("qemu: Ctrl-C while waiting for SSH stops the VM and removes the output directory", async () => {
  await withQemuLab(async (lab) => {
    // Nothing listens on the guest's port 2200: the build waits for SSH until interrupted.
    const file = await lab.template(diskBuilder(lab.guest, { ssh_port: 2200 }));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI_PATH, "build", file],
      cwd: lab.dir,
      env: { KILN_HOME: lab.home, NO_COLOR: "1", PACKER_CACHE_DIR: join(lab.dir, "cache") },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    while (!/Waiting for SSH/.test(stdout)) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    assert.match(stdout, /Waiting for SSH/);
    const runId = onlyRun(lab.home);
    assert.equal(qemuPidsOfRun(runId).length, 1);
    child.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    await child.stderr.cancel();
    const status = await child.status;
    assert.notEqual(status.code, 0);
    assert.match(stdout, /Stopped the VM/);
    assert.deepEqual(qemuPidsOfRun(runId), []);
    assert.ok(!exists(join(lab.dir, "out")), "the output directory is removed");
  });
});

Deno.test("qemu: a ledger VM that names another process, or another run's tag, is never signalled", async () => {
  const sleeper = new Deno.Command("sleep", { args: ["60"] }).spawn();
  try {
    const info = procInfo(sleeper.pid)!;
    const runId = "20261207T000000Z-abcdef";
    const tag = vmTag(runId, "qemu");
    const identity = {
      pid: sleeper.pid,
      startTicks: info.startTicks,
      bootId: currentBootId()!,
      qmpSocket: "/nonexistent/qmp",
      tag,
      logFile: "/nonexistent/log",
    };
    const messages: string[] = [];
    const ctx = {
      runId,
      buildName: "qemu",
      config: {},
      signal: new AbortController().signal,
      ui: { say: (m: string) => messages.push(m), message: () => {}, error: () => {} },
    };
    // The tag is this run's, but the process does not carry it: it is not the VM.
    await vmHandler.delete(ctx, { kind: "qemu.vm", id: tag, data: { identity } });
    // Another run's tag is refused outright.
    const other = { ...identity, tag: vmTag("20261207T000000Z-ffffff", "qemu") };
    await assert.rejects(
      vmHandler.delete(ctx, { kind: "qemu.vm", id: other.tag, data: { identity: other } }),
      DeletionRefused,
    );
    const after = procInfo(sleeper.pid);
    assert.ok(after && !isGone(after), "the unrelated process still runs");
    assert.deepEqual(messages, []);
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
});
