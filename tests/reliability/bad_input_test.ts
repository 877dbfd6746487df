/**
 * The bad-input campaign's fast subset: a sample of each family of damaged
 * input (fuzzed templates, wrong types, non-UTF-8 bytes, -var/-var-file
 * values, truncated and hand-edited logs) must end in a success or a clear
 * error, through the CLI's entry in a long-lived host process and, for a
 * sample, the real process. Failures print the reproducible case (KILN_FUZZ_SEED).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { prng } from "../../reliability/fuzz/prng.ts";
import {
  loadSeeds,
  mutatedTemplates,
  wrongTypeAtEveryPath,
} from "../../reliability/fuzz/templates.ts";
import { runTemplateTrials } from "../../reliability/fuzz/template_trials.ts";
import { badOutcome, CliHost, runCliProcess } from "../../reliability/fuzz/run_cli.ts";
import { varCases } from "../../reliability/fuzz/var_inputs.ts";
import { runVarTrials } from "../../reliability/fuzz/var_trials.ts";
import {
  editTrials,
  realRun,
  replayTruncations,
  resumeAndCleanupTruncations,
} from "../../reliability/fuzz/log_trials.ts";
import { fieldEdits, lineEdits, lineEnds, nonUtf8Edits } from "../../reliability/fuzz/log_edits.ts";
import type { ScenarioResult } from "../../reliability/types.ts";
import { withTempDir } from "../support/temp_dir.ts";

const SEED = Number(Deno.env.get("KILN_FUZZ_SEED") ?? 7);
const TIMEOUT = 120_000;
const DEMO = new URL("../../examples/demo_file.json", import.meta.url).pathname;

function assertAllPassed(r: ScenarioResult, minTrials: number): void {
  assert.ok(r.trials >= minTrials, `${r.scenario}: only ${r.trials} trials`);
  assert.equal(r.passed, r.trials, `${r.scenario} (seed ${SEED}):\n${r.failures.join("\n")}`);
}

Deno.test("bad input: fuzzed templates end in success or a clear error naming the file", async () => {
  await withTempDir(async (dir) => {
    const r = await runTemplateTrials(mutatedTemplates(loadSeeds(), prng(SEED), 250), dir, {
      scenario: "fuzzed templates",
      cliEvery: 125,
      buildEvery: 2,
      timeoutMs: TIMEOUT,
    });
    assertAllPassed(r, 250);
  });
});

Deno.test("bad input: the wrong JSON type at every path of the file demo template", async () => {
  await withTempDir(async (dir) => {
    const seed = loadSeeds().find((s) => s.name === "examples/demo_file.json")!;
    const r = await runTemplateTrials(wrongTypeAtEveryPath(seed), dir, {
      scenario: "wrong types",
      cliEvery: 0,
      buildEvery: 0,
      timeoutMs: TIMEOUT,
    });
    assertAllPassed(r, 100);
  });
});

Deno.test("bad input: hostile nesting and many template actions are clear errors, fast", async () => {
  await withTempDir(async (dir) => {
    const cli = new CliHost();
    try {
      const deep = join(dir, "deep.json");
      await Deno.writeTextFile(deep, `{"builders": ${"[".repeat(50000)}${"]".repeat(50000)}}`);
      const out = await cli.run({ args: ["validate", deep] }, TIMEOUT);
      assert.equal(badOutcome(out, { mustName: deep, allowSuccess: false }), undefined);
      assert.match(out.stderr + out.stdout, /nest deeper than 500 levels/);
      // 100,000 actions in one string: the engine once counted lines per action (quadratic).
      const many = join(dir, "many.json");
      await Deno.writeTextFile(
        many,
        JSON.stringify({
          variables: { x: "1" },
          builders: [{ type: "null", communicator: "none" }],
          provisioners: [{ type: "shell-local", inline: ["{{ user `x` }}".repeat(100_000)] }],
        }),
      );
      const ok = await cli.run({ args: ["validate", many] }, 30_000);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await cli.close();
    }
  });
});

Deno.test("bad input: fuzzed -var and -var-file values", async () => {
  await withTempDir(async (dir) => {
    const r = await runVarTrials(varCases(prng(SEED), 80), dir, {
      scenario: "fuzzed -var/-var-file",
      cliEvery: 40,
      timeoutMs: TIMEOUT,
    });
    assertAllPassed(r, 80);
  });
});

Deno.test("bad input: a real log truncated, hand-edited and with bytes that are not UTF-8", async () => {
  await withTempDir(async (dir) => {
    const cli = new CliHost();
    try {
      const run = await realRun(cli, DEMO, join(dir, "ws"), TIMEOUT);
      const size = run.log.length;
      const cuts = [
        ...new Set([
          ...lineEnds(run.log),
          ...Array.from({ length: 60 }, (_, i) => Math.floor(i * size / 60)),
        ]),
      ];
      assertAllPassed(await replayTruncations(cli, run, cuts, dir, TIMEOUT), 60);
      const ends = lineEnds(run.log);
      const points = [0, ends[2], ends[10] - 17, ends[Math.floor(ends.length / 2)], size - 5];
      assertAllPassed(await resumeAndCleanupTruncations(cli, run, points, dir, TIMEOUT, 5), 10);
      const opts = { replayEvery: 200, processEvery: 5, timeoutMs: TIMEOUT };
      const edits = await editTrials(cli, run, "field edits", fieldEdits(run.log), dir, opts);
      assertAllPassed(edits, 1000);
      assertAllPassed(await editTrials(cli, run, "line edits", lineEdits(run.log), dir, opts), 100);
      assertAllPassed(
        await editTrials(cli, run, "non-UTF-8", nonUtf8Edits(run.log), dir, opts),
        100,
      );
    } finally {
      await cli.close();
    }
  });
});

Deno.test("bad input: a template that is not UTF-8, through the real process", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeFile(
      file,
      new Uint8Array([
        ...new TextEncoder().encode('{"builders": [{"type": "nu'),
        0xff,
        ...new TextEncoder().encode('ll"}]}'),
      ]),
    );
    const out = await runCliProcess({ args: ["validate", file], cwd: dir }, TIMEOUT);
    assert.equal(badOutcome(out, { mustName: file, allowSuccess: false }), undefined);
    assert.match(out.stderr, /not valid UTF-8/);
  });
});
