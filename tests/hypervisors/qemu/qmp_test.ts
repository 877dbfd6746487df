/**
 * The QMP client against a real qemu (guest-less, under TCG): handshake,
 * commands and their errors, events, timeouts, a dying qemu, and how qemu's
 * one-client-per-socket rule shows to a second client.
 */
import assert from "node:assert/strict";
import {
  connectQmp,
  QmpBusyError,
  QmpCommandError,
  QmpConnectionError,
  type QmpEvent,
  QmpTimeoutError,
} from "../../../hypervisors/qemu/qmp.ts";
import { withTempDir } from "../../support/temp_dir.ts";
import { bareMachine, plainQemu, since } from "./support.ts";

Deno.test("QMP: greeting, capabilities, queries and commands on a paused VM", async () => {
  await withTempDir(async (dir) => {
    const vm = plainQemu(dir, [
      ...bareMachine(),
      "-name",
      "kiln-qmp-test",
      "-vnc",
      `unix:${dir}/vnc.sock`,
    ]);
    try {
      const qmp = await connectQmp(vm.socket, { waitForSocket: true });
      assert.equal(qmp.greeting.version.qemu.major >= 2, true);
      assert.deepEqual(await qmp.queryStatus(), {
        status: "prelaunch",
        running: false,
        singlestep: false,
      });
      assert.equal(await qmp.queryName(), "kiln-qmp-test");
      const vnc = await qmp.queryVnc();
      assert.equal(vnc.enabled, true);
      assert.equal(vnc.family, "unix");

      const resumed = qmp.waitForEvent("RESUME", { timeoutMs: 5_000 });
      await qmp.cont();
      await resumed;
      assert.equal((await qmp.queryStatus()).status, "running");
      const stopped = qmp.waitForEvent("STOP", { timeoutMs: 5_000 });
      await qmp.stop();
      assert.equal((await stopped).event, "STOP");
      assert.equal((await qmp.queryStatus()).status, "paused");

      assert.match(await qmp.humanMonitorCommand("info status"), /VM status: paused/);
      await qmp.sendKey(["shift", "a"], 10);

      // Round trips, for the record: the median of 50 query-status.
      const times: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        await qmp.queryStatus();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      console.log(`QMP query-status round trip: median ${times[25].toFixed(2)} ms`);

      const shutdown = qmp.waitForEvent("SHUTDOWN", { timeoutMs: 5_000 });
      await qmp.quit();
      assert.equal((await shutdown).data?.reason, "host-qmp-quit");
      const why = await qmp.closed;
      assert.match(why.message, /qemu closed the QMP connection/);
      assert.equal((await vm.child.status).code, 0);
    } finally {
      await vm.kill();
    }
  });
});

Deno.test("QMP: a refused command names the command and qemu's reason; the session stays usable", async () => {
  await withTempDir(async (dir) => {
    const vm = plainQemu(dir);
    try {
      const qmp = await connectQmp(vm.socket, { waitForSocket: true });
      await assert.rejects(qmp.execute("no-such-command"), (err: unknown) => {
        assert.ok(err instanceof QmpCommandError);
        assert.equal(err.errorClass, "CommandNotFound");
        assert.match(err.message, /^QMP no-such-command failed: CommandNotFound: /);
        return true;
      });
      await assert.rejects(
        qmp.sendKey(["not-a-key"]),
        /QMP send-key failed: GenericError: .*not-a-key/,
      );
      assert.equal((await qmp.queryStatus()).status, "prelaunch");
      qmp.close();
      await assert.rejects(qmp.queryStatus(), (err: unknown) => {
        assert.ok(err instanceof QmpConnectionError);
        assert.match(err.message, /QMP query-status not sent: the QMP client was closed/);
        return true;
      });
    } finally {
      await vm.kill();
    }
  });
});

Deno.test("QMP: a timed-out command does not swallow the next reply; a killed qemu fails waiters", async () => {
  await withTempDir(async (dir) => {
    const vm = plainQemu(dir);
    try {
      const qmp = await connectQmp(vm.socket, { waitForSocket: true });
      Deno.kill(vm.child.pid, "SIGSTOP"); // qemu can no longer answer
      await assert.rejects(
        qmp.execute("query-name", undefined, { timeoutMs: 300 }),
        (err: unknown) =>
          err instanceof QmpTimeoutError &&
          /query-name got no reply within 300 ms/.test(err.message),
      );
      Deno.kill(vm.child.pid, "SIGCONT");
      // The late reply to query-name arrives first; it must not answer query-status.
      assert.equal((await qmp.queryStatus()).status, "prelaunch");

      Deno.kill(vm.child.pid, "SIGSTOP");
      const waiting = assert.rejects(
        qmp.queryStatus(),
        /QMP query-status got no reply: qemu closed the QMP connection .* \(the VM exited\?\)/,
      );
      const event = assert.rejects(
        qmp.waitForEvent("NEVER", { timeoutMs: 30_000 }),
        QmpConnectionError,
      );
      await new Promise((r) => setTimeout(r, 100));
      await vm.kill();
      await waiting;
      await event;
    } finally {
      await vm.kill();
    }
  });
});

Deno.test("QMP: one client per socket — a second one is told it is busy, then reattaches", async () => {
  await withTempDir(async (dir) => {
    const vm = plainQemu(dir);
    try {
      const first = await connectQmp(vm.socket, { waitForSocket: true });
      const start = performance.now();
      await assert.rejects(connectQmp(vm.socket, { timeoutMs: 700 }), (err: unknown) => {
        assert.ok(err instanceof QmpBusyError);
        assert.match(
          err.message,
          /no QMP greeting .* within 700 ms: another client is probably attached/,
        );
        return true;
      });
      assert.ok(since(start) >= 650);
      first.close();
      // After the first client is gone (closed, or its process killed) the next one is greeted.
      const second = await connectQmp(vm.socket, { timeoutMs: 5_000 });
      assert.equal((await second.queryStatus()).running, false);
      second.close();
    } finally {
      await vm.kill();
    }
  });
});

Deno.test("QMP: missing socket and a stale socket file are told apart", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      connectQmp(`${dir}/none.sock`),
      (err: unknown) =>
        err instanceof QmpConnectionError &&
        err.message ===
          `no QMP socket at ${dir}/none.sock (qemu is not running, or was started with another socket)`,
    );
    const vm = plainQemu(dir);
    (await connectQmp(vm.socket, { waitForSocket: true })).close();
    await vm.kill(); // SIGKILL leaves the socket file behind
    await assert.rejects(
      connectQmp(vm.socket),
      new RegExp(
        `nothing listens on the QMP socket ${vm.socket} \\(qemu exited and left the socket file\\)`,
      ),
    );
  });
});

Deno.test("QMP: the events stream yields events in order until the connection ends", async () => {
  await withTempDir(async (dir) => {
    const vm = plainQemu(dir);
    try {
      const qmp = await connectQmp(vm.socket, { waitForSocket: true });
      const seen: QmpEvent[] = [];
      const reading = (async () => {
        for await (const e of qmp.events()) seen.push(e);
      })();
      await qmp.cont();
      await qmp.stop();
      await qmp.cont();
      await qmp.quit();
      await reading;
      assert.deepEqual(seen.map((e) => e.event), ["RESUME", "STOP", "RESUME", "SHUTDOWN"]);
      assert.equal(typeof seen[0].timestamp?.seconds, "number");
    } finally {
      await vm.kill();
    }
  });
});
