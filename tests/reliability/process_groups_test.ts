/**
 * The process-group trust rows, one trial each, on their own: real kiln
 * processes killed with -9 or sent SIGTERM mid shell-local, then resumed or
 * cleaned up; the orphaned script must be stopped before anything reruns,
 * the TERM trap must finish, a zombie owner must not block a resume, and a
 * reused pid must never be signalled.
 */
import assert from "node:assert/strict";
import { trustRows } from "../../reliability/trust/process_groups.ts";

Deno.test("process groups: every fast trust row holds", async () => {
  const rows = await trustRows("fast");
  assert.equal(rows.length, 5);
  assert.deepEqual(
    rows.filter((r) => r.trials === 0 || r.passed !== r.trials || r.leaked > 0 || r.lostEvents > 0)
      .map((r) => `${r.scenario}: ${r.passed}/${r.trials}\n  ${r.failures.join("\n  ")}`),
    [],
  );
});
