/**
 * The trust group: each finding of the trust review (a log that lies, a
 * cleanup that harms, a secret that leaks, a process left running) is a
 * permanent scenario. Every module in `reliability/trust/` exports
 * `trustRows(size)`; this group runs them in file order so a topic can be
 * added without touching the others.
 */
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";

const TRUST_DIR = new URL("../trust/", import.meta.url);

type RowSource = (size: CampaignSize) => Promise<ScenarioResult[]>;

async function rowSources(): Promise<RowSource[]> {
  const files = (await Array.fromAsync(Deno.readDir(TRUST_DIR)))
    .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts"))
    .map((e) => e.name).sort();
  const out: RowSource[] = [];
  for (const file of files) {
    const mod = await import(new URL(file, TRUST_DIR).href);
    if (typeof mod.trustRows === "function") out.push(mod.trustRows);
  }
  return out;
}

/** The trust group. */
export const trust: Scenario = {
  group: "trust",
  async run(size: CampaignSize) {
    const rows: ScenarioResult[] = [];
    for (const source of await rowSources()) rows.push(...await source(size));
    return rows;
  },
};
