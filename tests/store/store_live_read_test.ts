/**
 * Reading a run another runner is writing: the copy is whatever the store
 * held at some moment, never "cut". (A reader that listed the segments
 * before it read the seal could get a seal covering segments appended in
 * between, and refused an honest log as cut.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runIdOf, startStoreLab } from "../support/store_lab.ts";

Deno.test("a run read while another runner appends to it is never taken for a cut log", async () => {
  const lab = await startStoreLab({ leaseSeconds: 5 });
  try {
    // Many durable events (one per provisioner), spread over a few seconds.
    const template = join(lab.dir, "template.json");
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: Array.from({ length: 12 }, (_, i) => ({
          type: "shell-local",
          inline: [`sleep 0.2`, `echo step ${i}`],
        })),
      }),
    );
    const a = lab.watch("a", ["build", template]);
    await a.waitFor(/step 0/);
    const id = runIdOf(a.output());
    // Slow reads widen the moment between a reader's listing and its other reads.
    lab.s3.faults.configure({ delayMs: 400, delayOperations: ["GetObject"] });
    const reads = [];
    for (let n = 0; n < 3; n++) reads.push(await lab.kiln(`reader${n}`, ["replay", id]));
    lab.s3.faults.configure({});
    assert.equal((await a.done()).code, 0, a.output());
    for (const r of reads) {
      assert.doesNotMatch(r.stderr, /cut/, r.stderr);
      assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    await lab.close();
  }
});
