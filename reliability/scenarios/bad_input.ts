/**
 * Bad input: fuzzed templates, `-var`/`-var-file` values, truncated and
 * hand-edited event logs, non-UTF-8 bytes and huge inputs, run as a user
 * would (`kiln validate/build/replay/cleanup`; through the CLI's entry in a
 * long-lived host process where that is much faster, a sample through the
 * real process).
 * Every trial must end in a success or a clear error: no stack trace, no
 * uncaught exception, no hang (each under a hard timeout).
 */
import { join } from "node:path";
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { prng } from "../fuzz/prng.ts";
import {
  loadSeeds,
  mutatedTemplates,
  type TemplateCase,
  wrongTypeAtEveryPath,
} from "../fuzz/templates.ts";
import { runTemplateTrials } from "../fuzz/template_trials.ts";
import { CliHost } from "../fuzz/run_cli.ts";
import { varCases } from "../fuzz/var_inputs.ts";
import { runVarTrials } from "../fuzz/var_trials.ts";
import {
  editTrials,
  type RealRun,
  realRun,
  replayTruncations,
  resumeAndCleanupTruncations,
} from "../fuzz/log_trials.ts";
import { fieldEdits, lineEdits, lineEnds, nonUtf8Edits } from "../fuzz/log_edits.ts";
import { hugeTrials } from "../fuzz/huge_trials.ts";

/** Seed of every random choice; KILN_FUZZ_SEED reproduces another campaign. */
const SEED = Number(Deno.env.get("KILN_FUZZ_SEED") ?? 20261122);
const ROOT = new URL("../../", import.meta.url).pathname;
const TIMEOUT = 120_000;

const PLAN = {
  fast: { templates: 1000, cliEvery: 50, buildEvery: 4, vars: 150, replayCuts: 400, resumeCuts: 8 },
  full: { templates: 5000, cliEvery: 25, buildEvery: 1, vars: 1000, replayCuts: 0, resumeCuts: 0 },
} as const;

const HUGE = {
  fast: {
    scriptBytes: 8 << 20,
    uploadBytes: 8 << 20,
    provisioners: 2000,
    templateBytes: 8 << 20,
    timeoutMs: 300_000,
  },
  full: {
    scriptBytes: 100 << 20,
    uploadBytes: 100 << 20,
    provisioners: 10_000,
    templateBytes: 64 << 20,
    timeoutMs: 900_000,
  },
};

async function inScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-bad-input-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Every example and runtime fixture with each wrong JSON type at each path. */
function* wrongTypes(): Generator<TemplateCase> {
  for (const seed of loadSeeds()) {
    if (/^(examples|tests\/runtime\/fixtures)\//.test(seed.name)) yield* wrongTypeAtEveryPath(seed);
  }
}

/** Each example with a byte that is not UTF-8 at several places, and one with a BOM. */
function* nonUtf8Templates(): Generator<TemplateCase> {
  for (const seed of loadSeeds()) {
    if (!seed.name.startsWith("examples/")) continue;
    const text = new TextEncoder().encode(JSON.stringify(seed.doc, null, 2));
    for (
      const at of [0, 1, Math.floor(text.length / 3), Math.floor(text.length / 2), text.length]
    ) {
      for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80]]) {
        const bytes = new Uint8Array(text.length + bad.length);
        bytes.set(text.subarray(0, at));
        bytes.set(bad, at);
        bytes.set(text.subarray(at), at + bad.length);
        yield { what: `${seed.name}: ${bad.length} bad byte(s) at ${at}`, ext: "json", bytes };
      }
    }
    yield {
      what: `${seed.name}: UTF-16 with BOM`,
      ext: "json",
      bytes: new Uint8Array([
        0xff,
        0xfe,
        ...[...JSON.stringify(seed.doc)].flatMap((
          c,
        ) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]),
      ]),
    };
  }
}

/** Every byte offset (full) or an even spread (fast), always including each line end. */
function cutPoints(log: Uint8Array, count: number): number[] {
  if (count === 0) return Array.from({ length: log.length + 1 }, (_, i) => i);
  const points = new Set([0, log.length, ...lineEnds(log)]);
  for (let i = 0; i < count; i++) points.add(Math.floor((i * log.length) / count));
  return [...points].sort((a, b) => a - b);
}

/** Line ends and the middle of each line (full), or a spread of them (fast). */
function resumePoints(log: Uint8Array, count: number): number[] {
  const ends = lineEnds(log);
  const all = [0, ...ends.flatMap((end, i) => [Math.floor(((ends[i - 1] ?? 0) + end) / 2), end])];
  if (count === 0) return all;
  return Array.from({ length: count }, (_, i) => all[Math.floor((i * all.length) / count)]);
}

async function logTrials(size: CampaignSize): Promise<ScenarioResult[]> {
  return await inScratch(async (dir) => {
    const cli = new CliHost();
    try {
      const run: RealRun = await realRun(
        cli,
        join(ROOT, "examples/demo_file.json"),
        join(dir, "ws"),
        TIMEOUT,
      );
      const rows = [
        await replayTruncations(cli, run, cutPoints(run.log, PLAN[size].replayCuts), dir, TIMEOUT),
        await resumeAndCleanupTruncations(
          cli,
          run,
          resumePoints(run.log, PLAN[size].resumeCuts),
          dir,
          TIMEOUT,
          size === "fast" ? 4 : 10,
        ),
      ];
      const edits = {
        replayEvery: size === "fast" ? 100 : 10,
        processEvery: 10,
        timeoutMs: TIMEOUT,
      };
      rows.push(
        await editTrials(
          cli,
          run,
          "hand-edited log: every single-field edit",
          fieldEdits(run.log),
          dir,
          edits,
        ),
      );
      rows.push(
        await editTrials(
          cli,
          run,
          "hand-edited log: lines deleted, duplicated, swapped",
          lineEdits(run.log),
          dir,
          edits,
        ),
      );
      rows.push(
        await editTrials(
          cli,
          run,
          "log with bytes that are not UTF-8",
          nonUtf8Edits(run.log),
          dir,
          edits,
        ),
      );
      for (const r of rows) {
        r.scenario += ` (${run.log.length}-byte log of examples/demo_file.json)`;
      }
      return rows;
    } finally {
      await cli.close();
    }
  });
}

/** Structure-aware fuzzed templates through validate (and build, when valid and local). */
export const fuzzedTemplates: Scenario = {
  group: "bad input",
  run: (size) =>
    inScratch(async (dir) => [
      await runTemplateTrials(
        mutatedTemplates(loadSeeds(), prng(SEED), PLAN[size].templates),
        dir,
        {
          scenario: `fuzzed templates, structure-aware (${PLAN[size].templates}, seed ${SEED})`,
          cliEvery: PLAN[size].cliEvery,
          buildEvery: PLAN[size].buildEvery,
          timeoutMs: TIMEOUT,
        },
      ),
    ]),
};

/** Systematic template damage: each wrong JSON type at each path; bytes that are not UTF-8. */
export const damagedTemplates: Scenario = {
  group: "bad input",
  run: (size) =>
    inScratch(async (dir) => [
      await runTemplateTrials(wrongTypes(), dir, {
        scenario: "wrong JSON type at every path of the examples",
        cliEvery: PLAN[size].cliEvery * 2,
        buildEvery: 0,
        timeoutMs: TIMEOUT,
      }),
      await runTemplateTrials(nonUtf8Templates(), dir, {
        scenario: "templates with bytes that are not UTF-8",
        cliEvery: 5,
        buildEvery: 0,
        timeoutMs: TIMEOUT,
      }),
    ]),
};

/** Fuzzed -var and -var-file values. */
export const fuzzedVariables: Scenario = {
  group: "bad input",
  run: (size) =>
    inScratch(async (dir) => [
      await runVarTrials(varCases(prng(SEED + 1), PLAN[size].vars), dir, {
        scenario: `fuzzed -var/-var-file values (${PLAN[size].vars})`,
        cliEvery: PLAN[size].cliEvery,
        timeoutMs: TIMEOUT,
      }),
    ]),
};

/** Truncated, hand-edited and non-UTF-8 event logs. */
export const damagedLogs: Scenario = { group: "bad input", run: logTrials };

/** A 100 MB script and upload, 10,000 provisioners, a huge template file. */
export const hugeInputs: Scenario = {
  group: "bad input",
  run: (size) => inScratch((dir) => hugeTrials(dir, HUGE[size])),
};
