/**
 * Trust rows for bad input (issue 12, finding 9): duplicate keys and numbers
 * out of range get Packer's verdict; deep nesting and runaway expansion stop
 * at kiln's documented limits with the file and JSON path named, never an
 * internal error, and within a bounded peak RSS of the kiln process; a
 * duration past JavaScript's timer range is honoured, not fired at once.
 * Every trial runs the real `kiln` process (validate, and build in "full");
 * "full" also runs Packer 1.6.6, when installed, to check each claim about it.
 */
import { join } from "node:path";
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { runKilnMeasured } from "../support/peak_rss.ts";
import { spawnKiln } from "../support/kiln_process.ts";
import { badOutcome } from "../fuzz/run_cli.ts";
import { type BadCase, DUPLICATE_KEYS, EXPANSION, NESTING, NUMBERS } from "./bad_input_cases.ts";

/** Peak RSS a kiln process may reach on any of these inputs (it idles near 90 MB). */
const PEAK_RSS_LIMIT = 200 << 20;
const TIMEOUT = 120_000;

async function packerInstalled(): Promise<boolean> {
  try {
    const out = await new Deno.Command("packer", { args: ["version"], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).includes("1.6.6");
  } catch {
    return false;
  }
}

async function inScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-trust-bad-input-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs one case through `command` and checks kiln's answer, its memory and Packer's verdict. */
async function caseTrial(
  item: { c: BadCase; command: string },
  withPacker: boolean,
): Promise<TrialOutcome> {
  const { c: bad, command } = item;
  return await inScratch(async (dir) => {
    const checks = new Checks();
    const file = join(dir, bad.file);
    await Deno.writeTextFile(file, bad.content);
    for (const [name, text] of Object.entries(bad.extra ?? {})) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    const args = [command, ...(bad.flags ?? []), file];
    const out = await runKilnMeasured(args, {
      cwd: dir,
      home: join(dir, ".kiln"),
      timeoutMs: TIMEOUT,
    });
    const text = `${out.stdout}\n${out.stderr}`;
    const refused = bad.path !== undefined;
    const verdict = badOutcome({ ...out, signal: null }, {
      mustName: refused ? file : undefined,
      allowSuccess: !refused,
    });
    checks.expect(verdict === undefined, `${command}: ${verdict}`);
    if (refused) {
      checks.expect(
        new RegExp(
          `${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: ${
            bad.path!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          }`,
        ).test(text),
        `${command}: the error does not name ${bad.file} at ${bad.path}: ${text.slice(0, 300)}`,
      );
      checks.expect(
        bad.message!.test(text),
        `${command}: no ${bad.message} in: ${text.slice(0, 300)}`,
      );
    } else if (command === "validate") {
      checks.expect(out.code === 0, `validate refused: ${text.slice(0, 300)}`);
    }
    checks.expect(
      out.peakRss < PEAK_RSS_LIMIT,
      `${command}: peak RSS ${(out.peakRss / 2 ** 20).toFixed(0)} MB ≥ ${PEAK_RSS_LIMIT >> 20} MB`,
    );
    if (withPacker && bad.packer && command === "validate") {
      const packer = await new Deno.Command("packer", {
        args: ["validate", ...(bad.flags ?? []), file],
        cwd: dir,
        env: { CHECKPOINT_DISABLE: "1" },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const answer = packer.code === 0 ? "accept" : "reject";
      checks.expect(
        answer === bad.packer,
        `Packer 1.6.6 ${answer}s it, the case says ${bad.packer}`,
      );
    }
    return checks.outcome();
  });
}

async function caseRow(
  scenario: string,
  cases: BadCase[],
  size: CampaignSize,
  withPacker: boolean,
): Promise<ScenarioResult> {
  const chosen = size === "fast" ? cases.filter((c) => c.fast) : cases;
  const commands = size === "fast" ? ["validate"] : ["validate", "build"];
  // An accepted template is only validated: building ssh_port 22.5 would wait for host "h".
  const items = chosen.flatMap((c) =>
    (c.path === undefined ? ["validate"] : commands).map((command) => ({ c, command }))
  );
  return await runScenario(
    scenario,
    items,
    (i) => `${i.command} ${i.c.what}`,
    (i) => caseTrial(i, withPacker),
    { deadlineMs: TIMEOUT + 30_000 },
  );
}

/** `"timeout": "1000h"` lets the provisioner finish; `"pause_before": "1000h"` really pauses. */
async function longDurationTrial(which: "timeout" | "pause_before"): Promise<TrialOutcome> {
  return await inScratch(async (dir) => {
    const checks = new Checks();
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{
          type: "shell-local",
          inline: ["sleep 0.5", "echo provisioner-finished"],
          [which]: "1000h",
        }],
      }),
    );
    const home = join(dir, ".kiln");
    const tmp = join(dir, "tmp");
    await Deno.mkdir(tmp);
    const proc = spawnKiln(["build", file], { cwd: dir, home, tmp });
    if (which === "timeout") {
      const out = await proc.done;
      checks.expect(out.code === 0, `build exited ${out.code}: ${out.stdout.slice(-300)}`);
      checks.expect(out.stdout.includes("provisioner-finished"), "the provisioner did not finish");
    } else {
      const pausing = await proc.waitForLine(/Pausing/, 60_000);
      checks.expect(pausing !== undefined, "no pause announced");
      await new Promise((r) => setTimeout(r, 3_000));
      checks.expect(
        !proc.lines.some((l) => l.includes("provisioner-finished")),
        "a 1000h pause_before ended within 3 s",
      );
      proc.kill("SIGINT");
      const out = await proc.done;
      checks.expect(out.code === 130, `cancelled build exited ${out.code}`);
    }
    return checks.outcome();
  });
}

/** The bad-input trust rows. */
export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const withPacker = size === "full" && await packerInstalled();
  const rows = [
    await caseRow(
      "bad input: duplicate keys (root, variables, builder, provisioner, post-processor, nested, " +
        "YAML) refused as Packer refuses, file and JSON path named; a var-file keeps the last",
      DUPLICATE_KEYS,
      size,
      withPacker,
    ),
    await caseRow(
      "bad input: numbers out of range (1e999999, -1e400, int options past int64, durations " +
        "past Go's range, YAML .inf) refused with the JSON path",
      NUMBERS,
      size,
      withPacker,
    ),
    await caseRow(
      `bad input: deep nesting (1,000,000-deep JSON and YAML, aliases, 20,000 parentheses and ` +
        `{{if}}s) stops at the limit with the path, never a crash, peak RSS < ${
          PEAK_RSS_LIMIT >> 20
        } MB`,
      NESTING,
      size,
      withPacker,
    ),
    await caseRow(
      `bad input: runaway expansion (doubling variable, replace_all, printf widths, 1,000 large ` +
        `options) stopped with the path, peak RSS < ${PEAK_RSS_LIMIT >> 20} MB`,
      EXPANSION,
      size,
      withPacker,
    ),
  ];
  const durations: ("timeout" | "pause_before")[] = size === "fast"
    ? ["timeout"]
    : ["timeout", "pause_before"];
  rows.push(
    await runScenario(
      "bad input: durations past JavaScript's 24.8-day timer (timeout, pause_before 1000h) honoured",
      durations,
      (d) => d,
      longDurationTrial,
    ),
  );
  return rows;
}
