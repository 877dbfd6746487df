/**
 * `-var`/`-var-file` trials: each fuzzed input set goes through `kiln
 * validate` of VAR_TEMPLATE (in a CLI host process, a sample through the real process
 * when the arguments fit a command line).
 */
import { join } from "node:path";
import type { ScenarioResult } from "../types.ts";
import { emptyRow, tally } from "./rows.ts";
import { badOutcome, CliHost, fitsCommandLine, runCliProcess } from "./run_cli.ts";
import { VAR_DIR, VAR_TEMPLATE, type VarCase } from "./var_inputs.ts";

/** Runs the cases in `dir`; one table row. */
export async function runVarTrials(
  cases: Iterable<VarCase>,
  dir: string,
  options: { scenario: string; cliEvery: number; timeoutMs: number },
): Promise<ScenarioResult> {
  const result = emptyRow(options.scenario);
  const template = join(dir, "template.json");
  await Deno.writeTextFile(template, JSON.stringify(VAR_TEMPLATE));
  const cli = new CliHost();
  try {
    let i = 0;
    for (const c of cases) {
      for (const [name, bytes] of Object.entries(c.files)) {
        await Deno.writeFile(join(dir, name), bytes);
      }
      const flags = c.flags.map((f) => f.replaceAll(VAR_DIR, `${dir}/`));
      const args = ["validate", ...flags, template];
      const out = options.cliEvery > 0 && i % options.cliEvery === 0 && fitsCommandLine(args)
        ? await runCliProcess({ args, cwd: dir }, options.timeoutMs)
        : await cli.run({ args, cwd: dir }, options.timeoutMs);
      const problem = badOutcome(out, { allowSuccess: true });
      tally(result, `case ${i} (${c.what})`, problem);
      for (const name of Object.keys(c.files)) await Deno.remove(join(dir, name));
      i++;
    }
  } finally {
    await cli.close();
  }
  return result;
}
