/**
 * An outage longer than the lease but shorter than KILN_STORE_WAIT_SECONDS:
 * nobody took the run meanwhile, so the build keeps it and finishes. (The
 * renewal that waited the outage out wrote an expiry already past; the
 * runner used to read that as its lease lost and stop.)
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runIdOf, startStoreLab, writeStoreTemplate } from "../support/store_lab.ts";

Deno.test("the store unreachable for longer than the lease: nobody took the run, so the build waits and finishes", async () => {
  const lab = await startStoreLab({ leaseSeconds: 1 });
  try {
    const template = await writeStoreTemplate(lab.dir, 2);
    const a = lab.watch("a", ["build", template]);
    // The pause: the next durable append (its end) comes while the store is away.
    await a.waitFor(/Running local shell script[\s\S]*Running local shell script/);
    await lab.s3.goOffline(2500);
    const status = await a.done();
    assert.equal(status.code, 0, a.output());
    assert.match(a.output(), /answers again/);
    assert.ok(existsSync(join(lab.dir, "second.done")), "the build went on after the outage");
    const replay = await lab.kiln("b", ["replay", runIdOf(a.output())]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /Builds finished/);
  } finally {
    await lab.close();
  }
});
