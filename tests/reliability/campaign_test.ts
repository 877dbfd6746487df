/**
 * The reliability campaign's fast subset, in CI: every scenario group runs
 * its representative trials (real kiln processes, real sshd, the EC2
 * emulator) and every row must hold — all trials passed, nothing leaked,
 * no event lost. `deno task reliability` runs the whole campaign.
 */
import assert from "node:assert/strict";
import { loadScenarios, runCampaign } from "../../reliability/run.ts";

const scenarios = await loadScenarios();

for (const scenario of scenarios) {
  Deno.test(`reliability (fast): ${scenario.group}`, async () => {
    const rows = await runCampaign([scenario], "fast");
    assert.ok(rows.length > 0, "the scenario reported no row");
    const bad = rows.filter((r) => r.passed !== r.trials || r.leaked > 0 || r.lostEvents > 0);
    assert.deepEqual(
      bad.map((r) =>
        `${r.scenario}: ${r.passed}/${r.trials} passed, ${r.leaked} leaked, ${r.lostEvents} lost` +
        r.failures.map((f) => `\n  ${f}`).join("")
      ),
      [],
    );
  });
}
