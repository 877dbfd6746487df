/**
 * `deno task reliability [--fast] [--only GROUP,...]`: runs every scenario
 * module under `reliability/scenarios/` (the whole campaign by default, the
 * CI subset with `--fast`), prints one table — group, scenario, trials,
 * passed, leaked resources, lost events — with a line per failed trial, and
 * writes it to `docs/reliability.md` with the date, the machine and the
 * command. Exits non-zero when any trial failed.
 */
import { parseArgs } from "node:util";
import type { CampaignSize, Scenario, ScenarioResult } from "./types.ts";
import { errorMessage } from "../runtime/errors.ts";

/** A table row with its group. */
export interface CampaignRow extends ScenarioResult {
  group: string;
}

const SCENARIOS_DIR = new URL("./scenarios/", import.meta.url);
const REPORT = new URL("../docs/reliability.md", import.meta.url).pathname;

function isScenario(value: unknown): value is Scenario {
  return typeof value === "object" && value !== null &&
    typeof (value as Scenario).group === "string" && typeof (value as Scenario).run === "function";
}

/** Every Scenario exported by the modules in reliability/scenarios/, in file order. */
export async function loadScenarios(): Promise<Scenario[]> {
  const files = (await Array.fromAsync(Deno.readDir(SCENARIOS_DIR)))
    .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts"))
    .map((e) => e.name).sort();
  const out: Scenario[] = [];
  for (const file of files) {
    const mod = await import(new URL(file, SCENARIOS_DIR).href);
    out.push(...Object.values(mod).filter(isScenario));
  }
  return out;
}

/**
 * Runs `scenarios` one after another; a scenario that throws becomes one
 * failed row instead of ending the campaign.
 */
export async function runCampaign(
  scenarios: Scenario[],
  size: CampaignSize,
  onRow: (row: CampaignRow) => void = () => {},
): Promise<CampaignRow[]> {
  const rows: CampaignRow[] = [];
  for (const s of scenarios) {
    let results: ScenarioResult[];
    try {
      results = await s.run(size);
    } catch (err) {
      results = [{
        scenario: `${s.group} (scenario crashed)`,
        trials: 1,
        passed: 0,
        leaked: 0,
        lostEvents: 0,
        failures: [errorMessage(err)],
      }];
    }
    for (const r of results) {
      const row = { group: s.group, ...r };
      rows.push(row);
      onRow(row);
    }
  }
  return rows;
}

/** The table as Markdown, then the failure lines. */
export function formatTable(rows: CampaignRow[]): string {
  const cell = (s: string | number) => String(s).replaceAll("|", "\\|");
  const out = [
    "| group | scenario | trials | passed | leaked resources | lost events |",
    "|---|---|--:|--:|--:|--:|",
    ...rows.map((r) =>
      `| ${cell(r.group)} | ${
        cell(r.scenario)
      } | ${r.trials} | ${r.passed} | ${r.leaked} | ${r.lostEvents} |`
    ),
  ];
  const sum = (k: "trials" | "passed" | "leaked" | "lostEvents") =>
    rows.reduce((n, r) => n + r[k], 0);
  out.push(
    `| **total** | | **${sum("trials")}** | **${sum("passed")}** | **${sum("leaked")}** | **${
      sum("lostEvents")
    }** |`,
  );
  const failures = rows.flatMap((r) => r.failures.map((f) => `- ${r.scenario}: ${f}`));
  if (failures.length) out.push("", "Failed trials:", "", ...failures);
  const notes = rows.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.scenario}: ${n}`));
  if (notes.length) out.push("", "Notes:", "", ...notes);
  return out.join("\n");
}

async function machineFacts(): Promise<string> {
  let cpu = "";
  try {
    cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.+)/)?.[1] ?? "";
  } catch {
    // Not Linux: the core count says enough.
  }
  return `${navigator.hardwareConcurrency} cores${cpu ? ` (${cpu.trim()})` : ""}, ` +
    `Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}`;
}

/** The docs/reliability.md text. */
export async function report(
  rows: CampaignRow[],
  size: CampaignSize,
  command: string,
  seconds: number,
): Promise<string> {
  return [
    "# Reliability campaign",
    "",
    "kiln's promise — nothing is lost and nothing leaks, whatever happens — as numbers anyone can",
    "reproduce with one command. Each trial runs a real `kiln` process against a real peer (sshd,",
    "the EC2 + S3 emulator, the local file system), interrupts or disturbs it, recovers, and checks:",
    "the log verifies (hash chain, every record's MAC, the run's seal), no event the process had",
    "written or shown is lost, nothing is left in the ledger, the emulator or the temp directory,",
    "modes are 0700/0600, no private key outlives the command, and no sentinel secret appears in",
    "any byte kiln wrote. The trust group attacks kiln as someone who can write `.kiln/` and as an",
    "unlucky user: forged, cut and swapped logs, files the run never made, secrets inside state and",
    "across output cuts, orphaned process groups, hostile templates (see README, threat model).",
    "",
    `- date: ${new Date().toISOString().slice(0, 10)}`,
    `- campaign: ${size} (${seconds.toFixed(0)} s)`,
    `- machine: ${await machineFacts()}`,
    `- command: \`${command}\``,
    "",
    formatTable(rows),
    "",
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      fast: { type: "boolean", default: false },
      only: { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const size: CampaignSize = values.fast ? "fast" : "full";
  const only = values.only?.split(",").map((g) => g.trim());
  const scenarios = (await loadScenarios()).filter((s) => !only || only.includes(s.group));
  const started = performance.now();
  console.log(`kiln reliability campaign (${size}): ${scenarios.length} scenario group(s)`);
  const rows = await runCampaign(scenarios, size, (r) => {
    console.log(
      `${r.passed === r.trials ? "ok  " : "FAIL"} ${r.group}: ${r.scenario} — ` +
        `${r.passed}/${r.trials} passed, ${r.leaked} leaked, ${r.lostEvents} lost`,
    );
    for (const f of r.failures) console.log(`       ${f}`);
    for (const n of r.notes ?? []) console.log(`       note: ${n}`);
  });
  const seconds = (performance.now() - started) / 1000;
  const command = ["deno task reliability", ...Deno.args].join(" ");
  console.log("\n" + formatTable(rows));
  if (!values["no-write"]) {
    await Deno.writeTextFile(REPORT, await report(rows, size, command, seconds));
    console.log(`\nwritten to docs/reliability.md (${seconds.toFixed(0)} s)`);
  }
  const failed = rows.some((r) => r.passed !== r.trials || r.leaked > 0 || r.lostEvents > 0);
  Deno.exit(failed ? 1 : 0);
}
