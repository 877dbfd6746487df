/** SIGINT / SIGTERM to a real build process: stop the running step, compensate in reverse, log it. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { foldOf, RUN_ID } from "./support/helpers.ts";
import { exists } from "../../runtime/fs.ts";

const fakeRun = new URL("./support/fake_run.ts", import.meta.url).pathname;

/** Starts a build of the fake template in its own process, as `kiln build` would run it. */
function spawnFakeRun(root: string, options: Record<string, boolean>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fakeRun, "run", root, RUN_ID, JSON.stringify(options)],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function waitFor(path: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await exists(path)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never appeared`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${signal} cancels the build, compensates and exits non-zero`, async () => {
    const root = await Deno.makeTempDir({ prefix: "kiln-cancel-" });
    const proc = spawnFakeRun(root, { sleep: true });
    try {
      await waitFor(join(root, "started"));
      proc.kill(signal);
      const out = await proc.output();
      assert.equal(out.code, 130);
      const text = new TextDecoder().decode(out.stdout);
      assert.match(text, /Cancelling the build\(s\) \(SIG(INT|TERM)\); cleaning up/);
      assert.match(text, /Build 'alpha' errored after .*: Build was cancelled\./);
      const state = await foldOf(root);
      assert.equal(state.status, "cancelled");
      assert.equal(state.cancelled, true);
      const b = state.builds.alpha;
      assert.equal(b.status, "cancelled");
      assert.ok(b.compensated);
      assert.ok(b.resources.every((e) => e.deletedAt), "every resource deleted");
      assert.equal(
        await exists(join(root, "alpha-disk.res")),
        false,
      );
      assert.equal(await Deno.readTextFile(join(root, "counter.txt")).catch(() => ""), "");
    } finally {
      try {
        proc.kill("SIGKILL");
      } catch { /* exited */ }
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("a second SIGINT during cleanup does not stop it (no terminal to confirm on)", async () => {
  const root = await Deno.makeTempDir({ prefix: "kiln-cancel2-" });
  const proc = spawnFakeRun(root, { sleep: true, slowDelete: true });
  try {
    await waitFor(join(root, "started"));
    proc.kill("SIGINT");
    // Wait until the slow deletion is under way, then press Ctrl-C again.
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const state = await foldOf(root);
      if (state.builds.alpha?.compensating) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill("SIGINT");
    const out = await proc.output();
    assert.equal(out.code, 130);
    assert.match(new TextDecoder().decode(out.stdout), /SIGINT again: cleanup is still running/);
    const state = await foldOf(root);
    assert.ok(state.builds.alpha.resources.every((e) => e.deletedAt), "nothing leaked");
    assert.equal(
      await exists(join(root, "alpha-disk.res")),
      false,
    );
  } finally {
    try {
      proc.kill("SIGKILL");
    } catch { /* exited */ }
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("SIGINT during post-processing cancels the build", async () => {
  const root = await Deno.makeTempDir({ prefix: "kiln-cancel-pp-" });
  const proc = spawnFakeRun(root, { slowPostProcessor: true });
  try {
    await waitFor(join(root, "pp-started"));
    proc.kill("SIGINT");
    const out = await proc.output();
    assert.equal(out.code, 130);
    const state = await foldOf(root);
    assert.equal(state.status, "cancelled");
    assert.equal(state.builds.alpha.status, "cancelled");
  } finally {
    try {
      proc.kill("SIGKILL");
    } catch { /* exited */ }
    await Deno.remove(root, { recursive: true });
  }
});
