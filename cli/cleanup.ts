/**
 * `kiln cleanup <run-id> [--json]`: deletes every resource a run left in its
 * ledger (after kill -9, a CI timeout, -on-error=abort). Logged and
 * resumable; "not found" counts as deleted.
 */
import { isHelpRequest, parseCommandArgs } from "./args.ts";
import { cleanupRun } from "../runtime/cleanup.ts";
import { readRunStart } from "../runtime/run_store.ts";
import { kilnHome } from "../runtime/paths.ts";
import { formatCliError } from "../runtime/errors.ts";
import { keptInputs } from "../runtime/run_build.ts";
import { prepareTemplate, restoreInitTime } from "../template/mod.ts";
import type { PreparedTemplate } from "../template/types.ts";
import { kilnRegistry } from "../registry.ts";

const USAGE = `Usage: kiln cleanup <run-id> [--json] [--accept-unsealed]

  Deletes every resource recorded in the run's ledger that was not deleted
  (results of successful builds are kept). A file or directory is deleted
  only while it is provably the one the run made, and only if the run's
  template could have produced it; anything else is left alone and listed
  as refused. Refuses a run whose log does not verify against its seal;
  --accept-unsealed acts on a run that has no seal on this machine (made by
  an older kiln, or moved without KILN_SEAL_DIR).`;

/** Runs `kiln cleanup`; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return 0;
  }
  try {
    const parsed = parseCommandArgs(args, {
      json: { type: "boolean" },
      color: { type: "boolean" },
      "accept-unsealed": { type: "boolean" },
    });
    if (parsed.positionals.length !== 1) {
      console.error(USAGE);
      return 1;
    }
    const runId = parsed.positionals[0];
    const json = parsed.values.json === true;
    const home = kilnHome();
    const prepared = await preparedFor(runId, home);
    const result = await cleanupRun(runId, {
      components: kilnRegistry,
      home,
      prepared,
      output: json ? false : undefined,
      color: parsed.values.color === false ? false : undefined,
      acceptUnsealed: parsed.values["accept-unsealed"] === true,
    });
    if (json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(
        `\n==> Cleanup of ${runId}: ${result.deleted.length} deleted, ` +
          (result.refused.length ? `${result.refused.length} refused (left alone), ` : "") +
          `${result.failed.length} failed` +
          (result.kept.length ? `, ${result.kept.length} kept (results of successful builds)` : ""),
      );
    }
    return result.failed.length === 0 ? 0 : 1;
  } catch (err) {
    console.error(formatCliError("cleanup", err));
    return 1;
  }
}

/** The run's template prepared with its kept inputs, for handler configs; undefined if unavailable. */
async function preparedFor(runId: string, home: string): Promise<PreparedTemplate | undefined> {
  try {
    const state = await readRunStart(runId, home);
    if (!state.template) return undefined;
    // `{{timestamp}}` in a path must render as it did for the run.
    if (state.initTime) restoreInitTime(state.initTime);
    // Inputs are gone after a successful run; the template alone still names the builds.
    const inputs = await keptInputs(runId, home) ?? {};
    // The template and its var files are named relative to where the run ran.
    const here = Deno.cwd();
    if (state.cwd) Deno.chdir(state.cwd);
    try {
      // As build prepared it: a builder type kiln lacks is that build's failure, not the template's.
      return await prepareTemplate(state.template, inputs, {
        registry: kilnRegistry,
        deferUnknownBuilders: true,
      });
    } finally {
      Deno.chdir(here);
    }
  } catch {
    return undefined;
  }
}
