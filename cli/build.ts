/**
 * `kiln build [options] TEMPLATE` and `kiln build --resume <run-id> [TEMPLATE]`:
 * runs a template's builds on the event-sourced runtime. Errors are one clear
 * line (or the template's issue list), never a stack trace.
 */
import { prepareTemplate, restoreInitTime } from "../template/mod.ts";
import { TemplateError } from "../template/types.ts";
import type { TemplateInputs } from "../template/types.ts";
import {
  ArgsError,
  flagHelp,
  type FlagSpecs,
  isHelpRequest,
  parseCommandArgs,
  TEMPLATE_INPUT_FLAGS,
  templateInputsFrom,
} from "./args.ts";
import { keptInputs, resumeRun, runBuild } from "../runtime/run_build.ts";
import { readRunStart } from "../runtime/run_store.ts";
import { kilnHome } from "../runtime/paths.ts";
import { newRunId } from "../runtime/run_id.ts";
import type { OnErrorMode } from "../runtime/types.ts";
import { formatCliError } from "../runtime/errors.ts";
import { reportIssues } from "./validate.ts";
import { commandOutput } from "./machine_readable.ts";
import { kilnComponents } from "../components.ts";
import { debugLog } from "../runtime/debug_log.ts";

const ON_ERROR = ["cleanup", "abort", "ask", "run-cleanup-provisioner"];

const FLAGS: FlagSpecs = {
  ...TEMPLATE_INPUT_FLAGS,
  "debug": {
    type: "boolean",
    help: "-debug                 Debug mode enabled for builds (pauses after every step; " +
      "builds run one at a time).",
  },
  "force": {
    type: "boolean",
    help: "-force                 Force a build to continue if artifacts exist, deletes " +
      "existing artifacts. With --resume: resume although the template changed.",
  },
  "on-error": {
    type: "string",
    help: "-on-error=[cleanup|abort|ask|run-cleanup-provisioner] If the build fails do: " +
      "clean up (default), abort, ask, or run-cleanup-provisioner.",
  },
  "parallel-builds": {
    type: "string",
    help: "-parallel-builds=1     Number of builds to run in parallel. 0 means no limit " +
      "(Default: 0)",
  },
  "color": { type: "boolean", help: "-color=false           Disable color output." },
  "timestamp-ui": {
    type: "boolean",
    help: "-timestamp-ui          Enable prefixing of each ui output with an RFC3339 timestamp.",
  },
  "resume": {
    type: "string",
    help: "--resume <run-id>      Continue a run from its event log (TEMPLATE optional).",
  },
  "accept-unsealed": {
    type: "boolean",
    help: "--accept-unsealed      With --resume: continue a run that has no seal on this " +
      "machine (made by an older kiln, or moved without KILN_SEAL_DIR).",
  },
};

const USAGE = `Usage: kiln build [options] TEMPLATE
       kiln build --resume <run-id> [options] [TEMPLATE]

  Will execute multiple builds in parallel as defined in the template.
  Every run is recorded in an event log; a crashed or failed run can be
  resumed, cleaned up (kiln cleanup) and replayed (kiln replay).

Options:

${flagHelp(FLAGS)}`;

/** What a caller driving `build` in-process (kiln demo) learns about the run. */
export interface BuildHooks {
  /** Called with kiln's run id once it is known (before the builds start). */
  runId?(id: string): void;
}

/** Runs `kiln build`; resolves to the exit code. */
export async function run(args: string[], hooks: BuildHooks = {}): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return 0;
  }
  try {
    const parsed = parseCommandArgs(args, FLAGS);
    const v = parsed.values;
    const onError = String(v["on-error"] ?? "cleanup");
    if (!ON_ERROR.includes(onError)) {
      throw new ArgsError(`-on-error must be one of ${ON_ERROR.join(", ")}; got "${onError}"`);
    }
    const debug = v["debug"] === true;
    // Packer: debug mode runs one build at a time, whatever -parallel-builds says.
    const parallel = debug ? 1 : Number(v["parallel-builds"] ?? "0");
    if (!Number.isInteger(parallel) || parallel < 0) {
      throw new ArgsError(
        `-parallel-builds must be a whole number >= 0; got "${v["parallel-builds"]}"`,
      );
    }
    const resume = v["resume"] as string | undefined;
    if (parsed.positionals.length > 1 || (!resume && parsed.positionals.length !== 1)) {
      console.error(USAGE);
      return 1;
    }
    const home = kilnHome();
    const hasInputFlags = parsed.ordered.some((o) =>
      ["var", "var-file", "only", "except"].includes(o.name)
    );
    let file: string | undefined = parsed.positionals[0];
    let inputs: TemplateInputs = templateInputsFrom(parsed);
    if (resume) {
      const state = await readRunStart(resume, home, {
        acceptUnsealed: v["accept-unsealed"] === true,
      });
      if (file === undefined && state.cwd && state.cwd !== Deno.cwd()) {
        // The template's relative paths must mean what they meant for the first run.
        console.log(`==> Resuming in ${state.cwd}, where run ${resume} started`);
        Deno.chdir(state.cwd);
      }
      file ??= state.template;
      if (!file) throw new Error(`run ${resume} does not record its template; pass TEMPLATE`);
      if (!hasInputFlags) inputs = await keptInputs(resume, home) ?? inputs;
      if (state.initTime) restoreInitTime(state.initTime);
    }
    // A resumed run's outputs exist already: they are its own.
    const prepared = await prepareTemplate(file, inputs, {
      registry: kilnComponents,
      freshOutputs: !resume && v["force"] !== true,
      // A builder type kiln lacks fails that build alone; the others run (validate reports it).
      deferUnknownBuilders: true,
    });
    const common = {
      components: kilnComponents,
      home,
      onError: onError as OnErrorMode,
      parallelBuilds: parallel,
      debug,
      force: v["force"] === true,
      color: v["color"] === false ? false : undefined,
      machineReadable: v["machine-readable"] === true,
      timestampUi: v["timestamp-ui"] === true,
      args: ["build", ...args],
      inputs,
      handleSignals: true,
      // TMPDIR is process-wide: a CLI driven inside a worker (the reliability
      // campaign's in-process trials) shares its process with other runs.
      runTempDir: !("WorkerGlobalScope" in globalThis),
    };
    if (debug) {
      commandOutput(common.machineReadable).say(
        "Debug mode enabled. Builds will not be parallelized.",
      );
    }
    debugLog(
      "build",
      "INFO",
      `template ${file}: builds ${prepared.builds.map((b) => `${b.name} (${b.type})`).join(", ")}` +
        `; debug mode: ${debug}; force: ${common.force}; on error: ${onError}; ` +
        `parallel builds: ${parallel || "unlimited"}${resume ? `; resuming ${resume}` : ""}`,
    );
    const runId = resume ?? newRunId();
    hooks.runId?.(runId);
    if (common.machineReadable) {
      // kiln's own record type (Packer's readers skip types they do not know):
      // the id that `--resume`, `cleanup` and `replay` take, first, as a killed
      // process never reaches its closing lines.
      commandOutput(true).machine("kiln-run-id", runId);
    } else if (!resume) {
      // On stderr, so stdout stays Packer's; printed first because a killed
      // process never reaches its closing lines.
      console.error(`kiln: run ${runId} (if interrupted: kiln build --resume ${runId})`);
    }
    const result = resume
      ? await resumeRun(resume, prepared, {
        ...common,
        forceResume: v["force"] === true,
        acceptUnsealed: v["accept-unsealed"] === true,
      })
      : await runBuild(prepared, { ...common, runId });
    return result.status === "succeeded" ? 0 : result.status === "cancelled" ? 130 : 1;
  } catch (err) {
    if (err instanceof TemplateError) {
      reportIssues(commandOutput(false), err, "Template validation failed");
      return 1;
    }
    console.error(formatCliError("build", err));
    return 1;
  }
}
