import assert from "node:assert/strict";
import { breakpointProvisioner, makeBreakpoint, NO_TTY } from "../../provisioners/breakpoint.ts";
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
  const bp = makeBreakpoint(() => false, () => Promise.reject(new Error("must not read")));
  const { ctx, ui } = provisionContext();
  await assert.rejects(
    () => bp.provision(ctx, decode(schema, { note: "foo bar" })),
    (e: Error) => e.message === NO_TTY,
  );
  assert.deepEqual(ui.says, [`Pausing at breakpoint provisioner with note "foo bar".`]);
});

Deno.test("breakpoint: on a terminal it waits for Enter; cancelling stops the wait", async () => {
  let release!: () => void;
  const bp = makeBreakpoint(() => true, (signal) =>
    new Promise<void>((resolve, reject) => {
      release = resolve;
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
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
});
