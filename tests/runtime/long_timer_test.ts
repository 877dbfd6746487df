/**
 * Timers longer than JavaScript's 2^31-1 ms: a plain setTimeout fires them
 * at once, so a provisioner `"timeout": "1000h"` failed immediately and a long
 * `pause_before` did not pause. sleep() and setLongTimeout chain instead.
 */
import assert from "node:assert/strict";
import { MAX_TIMER_MS, setLongTimeout, sleep } from "../../runtime/sleep.ts";

Deno.test("a sleep longer than 24.8 days does not end at once, and a signal still stops it", async () => {
  const ctl = new AbortController();
  let ended = false;
  const slept = sleep(MAX_TIMER_MS + 1_000, ctl.signal).then(() => ended = true, () => "aborted");
  await sleep(100);
  assert.equal(ended, false, "a 24.8-day sleep ended after 100 ms");
  ctl.abort(new Error("stop"));
  assert.equal(await slept, "aborted");
});

Deno.test("setLongTimeout fires short delays on time and holds long ones until cancelled", async () => {
  let fired = 0;
  const cancelShort = setLongTimeout(() => fired++, 20);
  const cancelLong = setLongTimeout(() => fired += 100, 1000 * 3_600_000);
  await sleep(120);
  assert.equal(fired, 1);
  cancelShort();
  cancelLong();
});
