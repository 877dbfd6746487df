/**
 * Template trials: each fuzzed template goes through `kiln validate`
 * (in a CLI host process, a sample through the real process) and, when it is valid and
 * purely local, through `kiln build`. Verdict: a clear error naming the file,
 * or a success; never a crash trace, an uncaught exception or a hang.
 */
import { join } from "node:path";
import type { ScenarioResult } from "../types.ts";
import { emptyRow, tally } from "./rows.ts";
import { badOutcome, CliHost, runCliProcess, type TrialOutput } from "./run_cli.ts";
import type { TemplateCase } from "./templates.ts";

/** How a batch of template trials runs. */
export interface TemplateTrialOptions {
  /** Row name in the table. */
  scenario: string;
  /** Every n-th case also goes through the real `kiln` process (0: none). */
  cliEvery: number;
  /** Every n-th valid, purely local case is also built (0: none). */
  buildEvery: number;
  /** Per-trial hard timeout. */
  timeoutMs: number;
}

const LOCAL_BUILDERS = new Set(["file", "null"]);
const LOCAL_PROVISIONERS = new Set(["shell-local"]);

/**
 * Whether building the template stays on this machine and ends by itself:
 * file/null builders without a communicator, shell-local provisioners only,
 * nothing that names a host or an endpoint (builds must never leave loopback).
 */
export function isLocalBuild(bytes: Uint8Array): boolean {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return false;
  }
  const text = JSON.stringify(doc);
  if (/_host|endpoint|http|winrm|ssh_|bastion|proxy|breakpoint/i.test(text)) return false;
  // Outputs stay inside the trial's directory: no absolute paths, no way up.
  if (/\.\.|"\/|"~|\\u0000/.test(text)) return false;
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const builders = list(doc?.builders) as Record<string, unknown>[];
  if (builders.length === 0) return false;
  for (const b of builders) {
    if (!b || !LOCAL_BUILDERS.has(b.type as string)) return false;
    if (b.type === "null" && b.communicator !== "none") return false;
  }
  for (const p of list(doc.provisioners) as Record<string, unknown>[]) {
    if (!p || !LOCAL_PROVISIONERS.has(p.type as string)) return false;
  }
  return doc["post-processors"] === undefined && doc["error-cleanup-provisioner"] === undefined;
}

/** Runs the cases in `dir`; one table row. */
export async function runTemplateTrials(
  cases: Iterable<TemplateCase>,
  dir: string,
  options: TemplateTrialOptions,
): Promise<ScenarioResult> {
  const result = emptyRow(options.scenario);
  const cli = new CliHost();
  let built = 0;
  let valid = 0;
  try {
    let i = 0;
    for (const c of cases) {
      const file = join(dir, `case-${i}.${c.ext}`);
      await Deno.writeFile(file, c.bytes);
      const problems: string[] = [];
      const check = (how: string, out: TrialOutput, name?: string) => {
        const bad = badOutcome(out, { mustName: name });
        if (bad) problems.push(`${how}: ${bad}`);
      };
      const validate = { args: ["validate", "-var", "x=1", file], cwd: dir };
      const inProcess = await cli.run(validate, options.timeoutMs);
      check("validate", inProcess, file);
      if (inProcess.code === 0) valid++;
      if (options.cliEvery > 0 && i % options.cliEvery === 0) {
        const real = await runCliProcess(validate, options.timeoutMs);
        check("validate (process)", real, file);
        if (!real.hung && real.code !== inProcess.code && !inProcess.hung) {
          problems.push(`process exit ${real.code} but host exit ${inProcess.code}`);
        }
      }
      if (
        inProcess.code === 0 && options.buildEvery > 0 && valid % options.buildEvery === 0 &&
        isLocalBuild(c.bytes)
      ) {
        built++;
        const home = join(dir, `home-${i}`);
        const out = await cli.run(
          { args: ["build", "-var", "x=1", file], cwd: dir, env: { KILN_HOME: home } },
          options.timeoutMs,
        );
        check("build", out);
      }
      tally(result, `case ${i} (${c.what})`, problems.length ? problems.join("; ") : undefined);
      await Deno.remove(file);
      i++;
    }
  } finally {
    await cli.close();
  }
  result.scenario += ` (${valid} valid, ${built} built)`;
  return result;
}
