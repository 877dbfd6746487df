/**
 * The build driver: one run, every build of the template in parallel (each
 * in its own machine, all in one log), under the run's exclusive lock.
 * SIGINT/SIGTERM cancel every build, which compensates and logs it.
 */
import { thisHost } from "./host.ts";
import { join } from "node:path";
import { type EventListener, EventLog } from "./event_log.ts";
import { EventType as E } from "./events.ts";
import { applyEvent, emptyRunState, liveResources, type RunState } from "./fold.ts";
import { Masker } from "./masker.ts";
import { FileSecretStore } from "./secret_store.ts";
import { acquireRunLock, lockExistingRun } from "./lock.ts";
import { kilnHome, runDir } from "./paths.ts";
import { newRunId } from "./run_id.ts";
import { newRunUuid, runUuidOf } from "./run_uuid.ts";
import { defaultColor, Terminal, type TextSink } from "./terminal.ts";
import { logUi } from "./ui.ts";
import {
  type BuildOutcome,
  type RunContext,
  type RunningBuild,
  startBuild,
} from "./build_runner.ts";
import { summary } from "./summary.ts";
import { debugPause } from "./debug_pause.ts";
import { inParallel } from "./parallel.ts";
import { RunRefusedError } from "./errors.ts";
import { ask as terminalAsk, canPrompt } from "./prompt.ts";
import type { OnErrorMode } from "./types.ts";
import { type Components, type PluginOverrides, pluginSource } from "./plugins.ts";
import type { PreparedTemplate, TemplateInputs } from "../template/types.ts";
import { KILN_VERSION } from "../version.ts";
import { INIT_TIME } from "../template/funcs.ts";
import { removeRunTempDir, useRunTempDir } from "./run_temp.ts";
import { STATE_SECRETS_FILE } from "./secret_refs.ts";
import { stopLeftoverProcessGroups } from "./leftover_processes.ts";

/** Options of `runBuild` / `resumeRun` (the CLI flags, as a library). */
export interface BuildOptions {
  /** The builders, provisioners, post-processors and common steps (see components.ts). */
  components: Components;
  /** Where runs live (default: KILN_HOME or ./.kiln). */
  home?: string;
  /** `-on-error` (default "cleanup"). */
  onError?: OnErrorMode;
  /** `-parallel-builds` (0 or absent: unlimited). */
  parallelBuilds?: number;
  /** `-force`: post-processors may overwrite. */
  force?: boolean;
  /** Colours (default: when stdout is a TTY and NO_COLOR is unset). */
  color?: boolean;
  machineReadable?: boolean;
  timestampUi?: boolean;
  /** Live progress line (default: when stdout is a TTY). */
  progress?: boolean;
  /** Where output goes; false for none (default: stdout). */
  output?: TextSink | false;
  /** The command line, recorded (masked) in RunStarted. */
  args?: string[];
  /** The inputs the template was prepared with: kept (0600) so `--resume` can re-prepare it. */
  inputs?: TemplateInputs;
  /** Aborting it cancels the run like SIGINT. */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers (the CLI does). */
  handleSignals?: boolean;
  /** Point TMPDIR at the run's own temp dir while it runs (see run_temp.ts; the CLI does). */
  runTempDir?: boolean;
  /** Receives every event as it is appended. */
  onEvent?: EventListener;
  /** Answers on-error=ask prompts (default: the terminal, when stdin is one). */
  ask?: (question: string) => Promise<string>;
  /** `-debug`: pause after every step for Enter on stdin (see debug_pause.ts). */
  debug?: boolean;
  /** Use this run id instead of a new one (new runs only). */
  runId?: string;
  /** Builders, provisioners, post-processors to use instead of (or besides) the registries. */
  plugins?: PluginOverrides;
}

/** Options of `resumeRun`. */
export interface ResumeOptions extends BuildOptions {
  /** Resume although the template or its variables changed. */
  forceResume?: boolean;
  /** Resume a run that has no seal here (see UnsealedRunError). */
  acceptUnsealed?: boolean;
}

/** How a run ended. */
export interface RunResult {
  runId: string;
  status: "succeeded" | "failed" | "cancelled";
  builds: BuildOutcome[];
  /** The run log. */
  logFile: string;
}

/** Name of the kept inputs file in the run's secret store. */
export const INPUTS_SECRET = "inputs.json";

/**
 * The -var/-var-file/-only/-except run `runId` was started with (kept 0600
 * beside its log); undefined when they are gone or unreadable.
 */
export async function keptInputs(
  runId: string,
  home: string,
): Promise<TemplateInputs | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(runDir(runId, home), "secrets", INPUTS_SECRET)));
  } catch {
    return undefined;
  }
}

/** Starts a new run of every build in `prepared`. */
export async function runBuild(
  prepared: PreparedTemplate,
  options: BuildOptions,
): Promise<RunResult> {
  const home = options.home ?? kilnHome();
  const runId = options.runId ?? newRunId();
  const dir = runDir(runId, home);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  const lock = await acquireRunLock(dir, runId);
  const dropTemp = options.runTempDir ? await useRunTempDir(dir) : undefined;
  try {
    const masker = new Masker(prepared.secrets);
    const log = await EventLog.create(runId, home, masker);
    const secrets = new FileSecretStore(join(dir, "secrets"), masker);
    if (options.inputs) await secrets.put(INPUTS_SECRET, JSON.stringify(options.inputs));
    const state = emptyRunState(runId);
    return await drive({ log, state, secrets, prepared, options, home }, () => {
      log.append({
        type: E.RunStarted,
        data: {
          template: prepared.template.file,
          // Relative paths in a template resolve against the working directory (as in Packer).
          cwd: Deno.cwd(),
          templateDigest: prepared.template.digest,
          ...(prepared.template.fileDigests ? { files: prepared.template.fileDigests } : {}),
          inputsDigest: prepared.inputsDigest,
          args: options.args ?? [],
          kilnVersion: KILN_VERSION,
          // The template engine's clock, restored on resume (see restoreInitTime).
          initTime: INIT_TIME.toISOString(),
          // Packer's PackerRunUUID: part of the run, so a resume keeps it.
          runUuid: newRunUuid(),
          builds: prepared.builds.map((b) => b.name),
          // Files, processes and VMs exist on this machine only (host.ts).
          host: thisHost(),
        },
      });
    });
  } finally {
    await dropTemp?.();
    await lock.release();
  }
}

/** Resumes run `runId` from its log (see DESIGN.md, "Resume and cleanup semantics"). */
export async function resumeRun(
  runId: string,
  prepared: PreparedTemplate,
  options: ResumeOptions,
): Promise<RunResult> {
  const home = options.home ?? kilnHome();
  const { dir, lock } = await lockExistingRun(runId, home);
  // Temp files a killed process left behind are swept either way.
  const dropTemp = options.runTempDir ? await useRunTempDir(dir) : await removeRunTempDir(dir);
  try {
    const masker = new Masker(prepared.secrets);
    const { log, contents } = await EventLog.open(runId, home, masker, {
      acceptUnsealed: options.acceptUnsealed,
    });
    const state = contents.state;
    const refuse = (why: string) => {
      log.close();
      throw new RunRefusedError(why);
    };
    if (!state.templateDigest) refuse(`run ${runId} has no RunStarted record; cannot resume it`);
    if (!state.unfinished && state.status === "succeeded") {
      refuse(`run ${runId} already succeeded; nothing to resume`);
    }
    if (log.refs.missing.size > 0) {
      refuse(
        `run ${runId} refers to secrets its secrets directory no longer holds ` +
          `(${join(dir, "secrets")} was removed or damaged); its state cannot be restored`,
      );
    }
    const changed: string[] = [];
    if (state.templateDigest !== prepared.template.digest) {
      changed.push(changedFiles(state.files, prepared.template.fileDigests) ?? "the template");
    }
    if (state.inputsDigest !== prepared.inputsDigest) changed.push("the variables");
    if (changed.length > 0 && !options.forceResume) {
      refuse(
        `run ${runId} was started from a different version: ${changed.join(" and ")} changed ` +
          `since; pass --force to resume anyway`,
      );
    }
    const secrets = new FileSecretStore(join(dir, "secrets"), masker);
    await secrets.maskAll();
    const interrupted = state.unfinished ? { driveSeq: state.driveSeq } : undefined;
    return await drive({ log, state, secrets, prepared, options, home, interrupted }, async () => {
      logUi(log, null).raw(
        `==> Resuming run ${runId} after event ${contents.last.seq}` +
          (contents.torn ? ` (ignoring the torn last line ${contents.torn.line})` : ""),
      );
      log.append({
        type: E.RunResumed,
        data: {
          from: contents.last.seq,
          ...(contents.torn
            ? { tornLine: contents.torn.line, tornBytes: contents.torn.bytes }
            : {}),
          ...(changed.length > 0 ? { forced: changed } : {}),
          args: options.args ?? [],
          kilnVersion: KILN_VERSION,
          host: thisHost(),
        },
      });
      // Never two copies: what the dead process left running stops before anything reruns.
      const stuck = (await stopLeftoverProcessGroups(log, state, new AbortController().signal))
        .filter((g) => g.error !== undefined);
      if (stuck.length > 0) {
        const names = stuck.map((g) => `${g.kind} ${g.id}`).join(", ");
        throw new RunRefusedError(
          `run ${runId}: ${names} of the interrupted run ${stuck.length > 1 ? "are" : "is"} ` +
            `still running and could not be stopped (${stuck[0].error}); refusing to run a ` +
            `second copy beside it`,
        );
      }
    });
  } finally {
    await dropTemp?.();
    await lock.release();
  }
}

interface DriveParts {
  log: EventLog;
  state: RunState;
  secrets: FileSecretStore;
  prepared: PreparedTemplate;
  options: BuildOptions;
  home: string;
  interrupted?: { driveSeq: number };
}

async function drive(
  parts: DriveParts,
  begin: () => void | Promise<void>,
): Promise<RunResult> {
  const { log, state, secrets, prepared, options } = parts;
  const started = performance.now();
  log.subscribeState((r) => applyEvent(state, r));
  log.trackState(() => state);
  const isTty = Deno.stdout.isTerminal();
  const terminal = options.output === false ? undefined : new Terminal({
    color: options.color ?? defaultColor(),
    machineReadable: options.machineReadable ?? false,
    timestamp: options.timestampUi ?? false,
    progress: options.progress ?? (isTty && options.output === undefined),
    sink: options.output,
  });
  if (terminal) log.subscribe((r) => terminal.show(r));
  if (options.onEvent) log.subscribe(options.onEvent);
  const runUi = logUi(log, null);
  const running = new Map<string, RunningBuild>();
  let cancelled = false;
  let compensating = false;
  const cancelAll = (why: string) => {
    if (cancelled) return;
    cancelled = true;
    compensating = true;
    log.append({ type: E.RunCancelled, data: { reason: why } });
    runUi.raw(`==> Cancelling the build(s) (${why}); cleaning up...`);
    for (const b of running.values()) b.cancel();
  };
  const onSignal = (sig: Deno.Signal) => () => {
    if (!compensating) return cancelAll(sig);
    void secondSignal(sig);
  };
  const secondSignal = async (sig: string) => {
    if (!canPrompt()) {
      runUi.raw(
        `==> ${sig} again: cleanup is still running and will finish; to stop anyway, kill -9 ` +
          `this process and run \`kiln cleanup ${log.runId}\``,
      );
      return;
    }
    const answer = await terminalAsk(
      "Cleanup is running. Stopping now leaves resources behind (they stay in the ledger for " +
        "`kiln cleanup`). Stop anyway? [y/N] ",
    );
    if (answer.trim().toLowerCase() === "y") {
      log.append({ type: E.RunFinished, data: { status: "cancelled", forced: true } });
      log.close();
      terminal?.close();
      Deno.exit(130);
    }
  };
  const handlers: [Deno.Signal, () => void][] = options.handleSignals
    ? [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]]
    : [];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const onAbort = () => cancelAll("cancelled by the caller");
  options.signal?.addEventListener("abort", onAbort);
  try {
    await begin();
    const run: RunContext = {
      runId: log.runId,
      runUuid: runUuidOf(state),
      log,
      state,
      secrets,
      prepared,
      onError: options.onError ?? "cleanup",
      force: options.force ?? false,
      ask: options.ask ?? (canPrompt() ? terminalAsk : undefined),
      // Packer's machine-readable UI cannot ask, so -debug does not pause there.
      debugPause: options.debug && !options.machineReadable ? debugPause() : undefined,
      plugins: pluginSource(options.components, options.plugins),
      steps: options.components.steps,
      interrupted: parts.interrupted,
    };
    if (options.signal?.aborted) onAbort();
    const outcomes = await inParallel(prepared.builds, options.parallelBuilds ?? 0, (build) => {
      if (cancelled) {
        return Promise.resolve<BuildOutcome>({
          name: build.name,
          status: "cancelled",
          artifacts: [],
          error: "Build was cancelled.",
        });
      }
      const rb = startBuild(run, build);
      running.set(build.name, rb);
      return rb.done;
    });
    const status = cancelled || outcomes.some((o) => o.status === "cancelled")
      ? "cancelled"
      : outcomes.every((o) => o.status === "succeeded")
      ? "succeeded"
      : "failed";
    summary(runUi, outcomes, performance.now() - started);
    log.append({ type: E.RunFinished, data: { status } });
    if (status === "succeeded") await secrets.destroy();
    else if (Object.values(state.builds).every((b) => liveResources(b).length === 0)) {
      // Nothing left to reconnect to: key material goes; the inputs stay for a redrive.
      await secrets.destroyAllBut([INPUTS_SECRET, STATE_SECRETS_FILE]);
    }
    if (terminal && !options.machineReadable) {
      const id = log.runId;
      const left = Object.values(state.builds).reduce(
        (n, b) =>
          n +
          liveResources(b).filter((e) => b.status !== "succeeded" || e.resource.temporary).length,
        0,
      );
      terminal.print(
        `\n==> Run ${id}: \`kiln runs show ${id}\` for its timeline, ` +
          `\`kiln replay ${id}\` to replay it.` +
          (status === "succeeded" ? "" : ` Resume with \`kiln build --resume ${id}\`.`) +
          (left > 0 ? ` \`kiln cleanup ${id}\` deletes the ${left} resource(s) it left.` : ""),
      );
    }
    return { runId: log.runId, status, builds: outcomes, logFile: log.file };
  } finally {
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
    options.signal?.removeEventListener("abort", onAbort);
    terminal?.close();
    log.close();
  }
}

/** "the files a.pkr.hcl, b.pkr.hcl" of a configuration that changed, when both sides name them. */
function changedFiles(
  before: Record<string, string> | undefined,
  now: Record<string, string> | undefined,
): string | undefined {
  if (!before || !now) return undefined;
  const names = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
  const differ = names.filter((n) => before[n] !== now[n]).map((n) =>
    !Object.hasOwn(now, n) ? `${n} (gone)` : !Object.hasOwn(before, n) ? `${n} (new)` : n
  );
  if (differ.length === 0) return undefined;
  return `${differ.length === 1 ? "the file" : "the files"} ${differ.join(", ")}`;
}
