import assert from "node:assert/strict";
import {
  breakpointProvisioner,
  makeBreakpoint,
  NO_TTY,
  openControllingTerminal,
} from "../../provisioners/breakpoint.ts";
import { decode, provisionContext } from "./support.ts";

const schema = breakpointProvisioner.schema;

Deno.test("breakpoint: disabled ones say so and continue", async () => {
  const { ctx, ui } = provisionContext();
  await breakpointProvisioner.provision(ctx, decode(schema, { disable: true, note: "foo bar" }));
  await breakpointProvisioner.provision(ctx, decode(schema, { disable: true }));
  assert.deepEqual(ui.says, [
    `Breakpoint provisioner with note "foo bar" disabled; continuing...`,
    "Breakpoint provisioner disabled; continuing...",
  ]);
});

Deno.test("breakpoint: without a terminal it fails as Packer does instead of hanging", async () => {
  const bp = makeBreakpoint(() => undefined);
  const { ctx, ui } = provisionContext();
  await assert.rejects(
    () => bp.provision(ctx, decode(schema, { note: "foo bar" })),
    (e: Error) => e.message === NO_TTY,
  );
  assert.deepEqual(ui.says, [`Pausing at breakpoint provisioner with note "foo bar".`]);
});

Deno.test("breakpoint: on a terminal it waits for Enter; cancelling stops the wait", async () => {
  let release!: () => void;
  let closed = 0;
  const bp = makeBreakpoint(() => ({
    readLine: (signal) =>
      new Promise<void>((resolve, reject) => {
        release = resolve;
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    close: () => void closed++,
  }));
  const { ctx, ui } = provisionContext();
  let done = false;
  const waiting = bp.provision(ctx, decode(schema, {})).then(() => done = true);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(done, false, "still paused");
  assert.deepEqual(ui.says, ["Pausing at breakpoint provisioner.", "Press enter to continue."]);
  release();
  await waiting;
  assert.equal(done, true);

  const abort = new AbortController();
  const cancelled = bp.provision(
    provisionContext({ signal: abort.signal }).ctx,
    decode(schema, {}),
  );
  abort.abort(new Error("cancelled"));
  await assert.rejects(() => cancelled, /cancelled/);
  assert.equal(closed, 2, "the terminal is closed after each pause");
});

Deno.test("breakpoint: without a controlling terminal the real provisioner fails fast", async () => {
  const tty = openControllingTerminal();
  if (tty) {
    // Under a real terminal it would wait for a human: nothing to check unattended.
    tty.close();
    return;
  }
  const { ctx } = provisionContext();
  await assert.rejects(
    () => breakpointProvisioner.provision(ctx, decode(schema, { note: "n" })),
    (e: Error) => e.message === NO_TTY,
  );
});
