import assert from "node:assert/strict";
import { parseBootCommand } from "../../../hypervisors/qemu/boot_command.ts";
import { bootKeySteps } from "../../../hypervisors/qemu/boot_keys.ts";
import { typeKeySteps } from "../../../hypervisors/qemu/boot_typist.ts";

function recorder() {
  const events: { keysym: number; down: boolean; at: number }[] = [];
  const started = performance.now();
  return {
    events,
    keyEvent(keysym: number, down: boolean) {
      events.push({ keysym, down, at: performance.now() - started });
      return Promise.resolve();
    },
  };
}

Deno.test("the key interval follows every key event, and waits pause the typing", async () => {
  const sink = recorder();
  const steps = bootKeySteps(parseBootCommand("a<wait0.2s>b").tokens);
  await typeKeySteps(sink, steps, { intervalMs: 30 });
  assert.equal(sink.events.length, 4);
  const gaps = sink.events.slice(1).map((e, i) => e.at - sink.events[i].at);
  assert.ok(gaps[0] >= 29, `a down -> a up after the interval (${gaps[0]} ms)`);
  assert.ok(gaps[1] >= 229, `a up -> b down after the interval and the wait (${gaps[1]} ms)`);
});

Deno.test("cancelling mid-command releases every key still held", async () => {
  const sink = recorder();
  const controller = new AbortController();
  const steps = bootKeySteps(parseBootCommand("<leftCtrlOn><leftAltOn><wait10s><del>").tokens);
  const typing = typeKeySteps(sink, steps, { intervalMs: 0, signal: controller.signal });
  setTimeout(() => controller.abort(new Error("cancelled by the user")), 100);
  await assert.rejects(typing, /cancelled by the user/);
  const released = sink.events.filter((e) => !e.down).map((e) => e.keysym).sort();
  assert.deepEqual(released, [0xffe3, 0xffe9]);
  assert.ok(!sink.events.some((e) => e.keysym === 0xffff), "<del> was never typed");
});
