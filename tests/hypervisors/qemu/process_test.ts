/**
 * process.ts against real qemu: a VM started by a kiln that then dies of
 * SIGKILL keeps running, is found by its identity and reattached to from
 * another process, and is stopped; an identity that does not match exactly
 * is never signalled.
 */
import assert from "node:assert/strict";
import {
  findByIdentity,
  QemuGoneError,
  type QemuIdentity,
  QemuStartError,
  reattach,
  startQemu,
  stopQemu,
} from "../../../hypervisors/qemu/process.ts";
import { procInfo } from "../../../hypervisors/qemu/proc.ts";
import { withTempDir } from "../../support/temp_dir.ts";
import { powerButtonGuest, waitForFileText } from "./power_button_guest.ts";
import { bareMachine, since } from "./support.ts";

const starter = new URL("./starter_main.ts", import.meta.url).pathname;

/** Runs starter_main.ts in a child Deno; resolves with the identity it prints and the child. */
async function startInChild(options: Record<string, unknown>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", starter, JSON.stringify(options)],
    stdout: "piped",
    stderr: "inherit",
    // Its own process group, so the test can SIGKILL the whole group, as a terminal or CI would.
    detached: true,
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the starter exited before printing an identity: ${text}`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { child, identity: JSON.parse(text.split("\n")[0]) as QemuIdentity };
}

function ppidOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

Deno.test("qemu started by a kiln whose process group is then SIGKILLed keeps running, is reattached and stopped", async () => {
  await withTempDir(async (dir) => {
    const { child, identity } = await startInChild({
      binary: "qemu-system-x86_64",
      args: [...bareMachine(), "-name", "packer-survivor"],
      tag: "kiln-run-survivor",
      qmpSocket: `${dir}/kiln.qmp`,
      logFile: `${dir}/qemu.log`,
    });
    try {
      assert.notEqual(identity.pid, child.pid);
      assert.equal(procInfo(identity.pid)?.session, identity.pid, "qemu leads its own session");
      assert.deepEqual(findByIdentity(identity), { alive: true });

      Deno.kill(-child.pid, "SIGKILL"); // the starter's whole process group
      await child.status;
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(findByIdentity(identity), { alive: true }, "qemu outlived its starter");
      assert.notEqual(ppidOf(identity.pid), child.pid);

      // The dead starter held the QMP session; the kernel closed it, so this process is greeted.
      const t = performance.now();
      const qmp = await reattach(identity, { timeoutMs: 5_000 });
      console.log(`reattach after SIGKILL of the starter: ${since(t)} ms`);
      assert.equal(await qmp.queryName(), "packer-survivor");
      assert.equal((await qmp.queryStatus()).status, "prelaunch");

      // A guest-less VM ignores the power button: stop falls through to quit.
      const steps: string[] = [];
      const outcome = await stopQemu(identity, {
        qmp,
        timeoutMs: 500,
        onStep: (s) => steps.push(s),
      });
      assert.equal(outcome, "quit");
      assert.deepEqual(steps, ["powering off", "quit"]);
      assert.match(findByIdentity(identity).alive ? "" : "gone", /gone/);
      assert.equal(await stopQemu(identity), "gone");
      await assert.rejects(reattach(identity), QemuGoneError);
    } finally {
      try {
        Deno.kill(identity.pid, "SIGKILL");
      } catch {
        // Stopped by the test.
      }
    }
  });
});

Deno.test("stopQemu powers a guest off over ACPI; start→serial and stop times", async () => {
  await withTempDir(async (dir) => {
    const guest = await powerButtonGuest(dir);
    const serial = `${dir}/serial.log`;
    const t0 = performance.now();
    const vm = await startQemu({
      binary: "qemu-system-x86_64",
      args: guest.args(serial),
      tag: "kiln-run-acpi",
      qmpSocket: `${dir}/kiln.qmp`,
      logFile: `${dir}/qemu.log`,
    });
    const qmpMs = since(t0);
    try {
      await waitForFileText(serial, /\S/, 30_000);
      const firstSerialMs = since(t0);
      await waitForFileText(serial, /KILN-GUEST-READY button=\/dev\/input\/event\d/, 60_000);
      const readyMs = since(t0);
      const t1 = performance.now();
      const outcome = await stopQemu(vm.identity, { qmp: vm.qmp, timeoutMs: 30_000 });
      console.log(
        `start→QMP ${qmpMs} ms, start→first serial byte ${firstSerialMs} ms, ` +
          `start→guest userspace ${readyMs} ms, ACPI power-off ${since(t1)} ms`,
      );
      assert.equal(outcome, "powered-off");
      assert.match(await Deno.readTextFile(serial), /KILN-GUEST-POWERING-OFF/);
      assert.equal((await vm.exited()).code, 0);
    } finally {
      await stopQemu(vm.identity, { graceful: false, stepTimeoutMs: 1_000 });
    }
  });
});

Deno.test("an identity that does not match exactly is never signalled", async () => {
  await withTempDir(async (dir) => {
    const vm = await startQemu({
      binary: "qemu-system-x86_64",
      args: bareMachine(),
      tag: "kiln-run-real",
      qmpSocket: `${dir}/kiln.qmp`,
      logFile: `${dir}/qemu.log`,
    });
    vm.qmp.close();
    try {
      const wrongStart = { ...vm.identity, startTicks: String(Number(vm.identity.startTicks) + 1) };
      assert.match(
        (findByIdentity(wrongStart) as { reason: string }).reason,
        /now belongs to another process \(started at tick \d+, not \d+\)/,
      );
      const wrongTag = { ...vm.identity, tag: "kiln-run-other" };
      assert.match(
        (findByIdentity(wrongTag) as { reason: string }).reason,
        /does not carry the run tag kiln-run-other/,
      );
      const otherBoot = { ...vm.identity, bootId: "00000000-0000-0000-0000-000000000000" };
      assert.match((findByIdentity(otherBoot) as { reason: string }).reason, /rebooted/);

      for (const wrong of [wrongStart, wrongTag, otherBoot]) {
        assert.equal(await stopQemu(wrong, { timeoutMs: 200, stepTimeoutMs: 200 }), "gone");
        await assert.rejects(reattach(wrong), QemuGoneError);
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(findByIdentity(vm.identity), { alive: true });
      const log = await Deno.readTextFile(`${dir}/qemu.log`);
      assert.doesNotMatch(log, /terminating on signal/, "qemu was never signalled");
      // And the VM is still usable: nothing sent it a QMP command either.
      const qmp = await reattach(vm.identity);
      assert.equal((await qmp.queryStatus()).status, "prelaunch");
      qmp.close();

      // Without QMP (socket gone) stop goes to SIGTERM, which qemu logs.
      await Deno.remove(vm.identity.qmpSocket);
      assert.equal(
        await stopQemu(vm.identity, { stepTimeoutMs: 2_000 }),
        "terminated",
      );
      assert.match(await Deno.readTextFile(`${dir}/qemu.log`), /terminating on signal 15/);
      await vm.exited();
      assert.match((findByIdentity(vm.identity) as { reason: string }).reason, /no process|exited/);
    } finally {
      await stopQemu(vm.identity, { graceful: false, stepTimeoutMs: 1_000 });
    }
  });
});

Deno.test("qemu that fails to start is reported in its own words; a failed write-ahead never runs it", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      startQemu({
        binary: "qemu-system-x86_64",
        args: [...bareMachine(), "-drive", `file=${dir}/missing.qcow2,format=qcow2`],
        tag: "kiln-run-bad",
        qmpSocket: `${dir}/kiln.qmp`,
        logFile: `${dir}/qemu.log`,
      }),
      (err: unknown) => {
        assert.ok(err instanceof QemuStartError);
        assert.match(
          err.message,
          new RegExp(
            `^qemu exited with code 1 while starting: .*Could not open '${dir}/missing.qcow2': No such file or directory`,
          ),
        );
        return true;
      },
    );
    await assert.rejects(
      startQemu({
        binary: "qemu-system-nope",
        args: bareMachine(),
        tag: "kiln-run-nope",
        qmpSocket: `${dir}/kiln.qmp`,
        logFile: `${dir}/qemu.log`,
      }),
      /^QemuStartError: cannot run qemu-system-nope: not found/,
    );
    // A "qemu" that never opens its QMP socket is ended, not left running.
    await Deno.writeTextFile(`${dir}/silent-qemu`, "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    let silent: QemuIdentity | undefined;
    await assert.rejects(
      startQemu({
        binary: `${dir}/silent-qemu`,
        args: [],
        tag: "kiln-run-silent",
        qmpSocket: `${dir}/silent.qmp`,
        logFile: `${dir}/silent.log`,
        readyTimeoutMs: 500,
        beforeStart: (identity) => {
          silent = identity;
        },
      }),
      /^QemuStartError: qemu \(pid \d+\) did not answer on QMP within 500 ms: no QMP socket at /,
    );
    assert.ok(silent);
    assert.equal(findByIdentity(silent).alive, false, "the silent process was stopped");
    await assert.rejects(
      startQemu({
        binary: "qemu-system-x86_64",
        args: bareMachine(),
        tag: "kiln-run-nolog",
        qmpSocket: `${dir}/nolog.qmp`,
        logFile: `${dir}/no/such/dir/qemu.log`,
      }),
      new RegExp(
        `^QemuStartError: cannot write qemu's log ${dir}/no/such/dir/qemu.log: No such file`,
      ),
    );
    let seen: QemuIdentity | undefined;
    await assert.rejects(
      startQemu({
        binary: "qemu-system-x86_64",
        args: bareMachine(),
        tag: "kiln-run-unrecorded",
        qmpSocket: `${dir}/gated.qmp`,
        logFile: `${dir}/gated.log`,
        beforeStart: (identity) => {
          seen = identity;
          assert.ok(procInfo(identity.pid), "held at the gate while the identity is recorded");
          throw new Error("the ledger is full");
        },
      }),
      /the ledger is full/,
    );
    assert.ok(seen);
    assert.equal(procInfo(seen.pid), undefined, "the gated process exited without running qemu");
    assert.equal(await Deno.stat(`${dir}/gated.qmp`).catch(() => undefined), undefined);
  });
});

Deno.test("start options that cannot work are refused before anything runs", async () => {
  const base = {
    binary: "qemu-system-x86_64",
    args: bareMachine(),
    tag: "kiln-ok",
    qmpSocket: "/tmp/x.qmp",
    logFile: "/tmp/x.log",
  };
  await assert.rejects(
    startQemu({ ...base, tag: "9lives" }),
    /run tag "9lives": expected a letter/,
  );
  await assert.rejects(
    startQemu({ ...base, qmpSocket: `/tmp/${"d".repeat(120)}/q.sock` }),
    /is 132 bytes: unix sockets allow at most 107; choose a shorter directory/,
  );
  await assert.rejects(
    startQemu({ ...base, args: [...bareMachine(), "-daemonize"] }),
    /-daemonize is not supported/,
  );
});
