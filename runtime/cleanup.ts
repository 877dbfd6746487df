/**
 * `kiln cleanup <run-id>`: drives every resource left in a run's ledger to
 * deleted, through the builders' resource handlers. It is itself logged
 * (so it is resumable and auditable) and treats "not found" as deleted.
 */
import { thisHost } from "./host.ts";
import { join } from "node:path";
import { EventLog } from "./event_log.ts";
import { EventType as E } from "./events.ts";
import { applyEvent, type BuildState, completedOutputs, liveResources } from "./fold.ts";
import { makeStepContext } from "./step_context.ts";
import { templateApi } from "./template_bridge.ts";
import type { Ui } from "./types.ts";
import type { BuilderPlugin } from "./plugin_types.ts";
import { Masker } from "./masker.ts";
import { lockExistingRun } from "./lock.ts";
import { kilnHome } from "./paths.ts";
import { FileSecretStore } from "./secret_store.ts";
import { defaultColor, Terminal, type TextSink } from "./terminal.ts";
import { logUi } from "./ui.ts";
import { deleteResource } from "./compensate.ts";
import { errorMessage } from "./errors.ts";
import { type PluginOverrides, type PluginRegistry, pluginSource } from "./plugins.ts";
import type { PreparedBuild, PreparedTemplate } from "../template/types.ts";
import { removeRunTempDir } from "./run_temp.ts";
import { stopLeftoverProcessGroups } from "./leftover_processes.ts";
import { type OutputScope, outputScope } from "./output_scope.ts";
import { isLocalPathRecord } from "./local_path_resource.ts";
import type { PluginSource } from "./plugins.ts";
import type { RunState } from "./fold.ts";

/** Options of cleanupRun. */
export interface CleanupOptions {
  home?: string;
  /** The run's template, prepared, when available: gives handlers the builds' configs. */
  prepared?: PreparedTemplate;
  /** The builders and post-processors whose resources the run recorded (see components.ts). */
  components: PluginRegistry;
  plugins?: PluginOverrides;
  output?: TextSink | false;
  color?: boolean;
  signal?: AbortSignal;
  /** Act on a run that has no seal here (see UnsealedRunError). */
  acceptUnsealed?: boolean;
}

/** What cleanup did (as shown to people: secrets inside ids are masked). */
export interface CleanupResult {
  runId: string;
  /** Deleted now; for a local path, `id` is exactly the path deleted. */
  deleted: { build: string; kind: string; id: string }[];
  /**
   * Not provably this run's (changed since the run made it, existed before,
   * outside the template's outputs): left alone and released from the ledger.
   */
  refused: { build: string; kind: string; id: string; reason: string }[];
  failed: { build: string; kind: string; id: string; error: string }[];
  /** Resources that remain live (results of successful builds are kept on purpose). */
  kept: { build: string; kind: string; id: string }[];
}

/** Deletes every resource run `runId` left behind. */
export async function cleanupRun(
  runId: string,
  options: CleanupOptions,
): Promise<CleanupResult> {
  const home = options.home ?? kilnHome();
  // Cleanup verifies every record (below): its working copy must hold them all.
  const { dir, lock } = await lockExistingRun(runId, home, { full: true });
  const masker = new Masker(options.prepared?.secrets ?? []);
  const secrets = new FileSecretStore(join(dir, "secrets"), masker);
  await secrets.maskAll();
  let opened;
  try {
    // Cleanup deletes things: it verifies every record, not just the tail.
    opened = await EventLog.open(runId, home, masker, {
      full: true,
      acceptUnsealed: options.acceptUnsealed,
    });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const { log, contents } = opened;
  const state = contents.state;
  log.subscribeState((r) => applyEvent(state, r));
  log.trackState(() => state);
  const terminal = options.output === false ? undefined : new Terminal({
    color: options.color ?? defaultColor(),
    machineReadable: false,
    timestamp: false,
    progress: false,
    sink: options.output,
  });
  if (terminal) log.subscribe((r) => terminal.show(r));
  const plugins = pluginSource(options.components, options.plugins);
  const result: CleanupResult = { runId, deleted: [], refused: [], failed: [], kept: [] };
  const signal = options.signal ?? new AbortController().signal;
  try {
    log.append({ type: E.CleanupStarted, data: { host: thisHost() } });
    // Scripts the dead process left running stop first: they may still be writing what is deleted next.
    // One that cannot be stopped stays live: the pass below tries again and reports it.
    for (const g of await stopLeftoverProcessGroups(log, state, signal)) {
      if (g.error === undefined) result.deleted.push({ build: g.build, kind: g.kind, id: g.id });
    }
    for (const b of Object.values(state.builds)) {
      const ui = logUi(log, b.name, b.name);
      const plugin = b.type ? await plugins.builder(b.type) : undefined;
      const build = options.prepared?.builds.find((x) => x.name === b.name);
      const config = build?.config ?? {};
      if (b.status !== "succeeded" && plugin && build) {
        await reconcileInFlight(b, plugin, build, options.prepared!, {
          log,
          runId,
          ui,
          secrets,
          signal,
        });
      }
      const live = liveResources(b);
      const succeeded = b.status === "succeeded";
      for (const e of live) {
        if (succeeded && !e.resource.temporary) {
          result.kept.push({ build: b.name, kind: e.resource.kind, id: e.resource.id });
        }
      }
      const targets = live.filter((e) => !succeeded || e.resource.temporary).reverse();
      if (targets.length === 0 && (succeeded || b.compensated || b.status === "pending")) continue;
      if (!succeeded && !b.compensating) {
        log.append({
          build: b.name,
          type: E.CompensationStarted,
          data: { kind: "build", reason: "cleanup" },
        });
      }
      const scope = scopeFor(options.prepared, state, b, plugins, dir);
      for (const e of targets) {
        const r = e.resource;
        // A file's handler says "Deleted <path>" or why it left it alone.
        if (!isLocalPathRecord(r)) ui.say(`Deleting ${r.kind} ${r.id}`);
        try {
          const outcome = await deleteResource(
            {
              log,
              buildName: b.name,
              handlers: plugin?.resources ?? {},
              cleanupContext: { runId, buildName: b.name, config, ui, signal },
              scope,
              sharedWith: (res) =>
                Object.values(state.builds).find((o) =>
                  o.name !== b.name &&
                  liveResources(o).some((x) =>
                    x.resource.kind === res.kind && x.resource.id === res.id
                  )
                )?.name,
            },
            r,
            e.step,
          );
          if ("refused" in outcome) {
            result.refused.push({ build: b.name, kind: r.kind, id: r.id, reason: outcome.refused });
          } else if ("sharedWith" in outcome) {
            result.kept.push({ build: b.name, kind: r.kind, id: r.id });
          } else {
            result.deleted.push({ build: b.name, kind: r.kind, id: r.id });
          }
        } catch (err) {
          const error = errorMessage(err);
          ui.error(error);
          result.failed.push({ build: b.name, kind: r.kind, id: r.id, error });
        }
      }
      if (succeeded) continue;
      const left = liveResources(b).length;
      log.append({
        build: b.name,
        type: left === 0 ? E.CompensationSucceeded : E.CompensationFailed,
        data: {
          kind: "build",
          ...(left ? { error: `${left} resource(s) could not be deleted` } : {}),
        },
      });
      if (b.status === "running" || b.status === "compensating") {
        log.append({
          build: b.name,
          type: E.BuildFinished,
          data: { status: "failed", error: "interrupted; cleaned up by `kiln cleanup`" },
        });
      }
    }
    log.append({
      type: E.CleanupFinished,
      data: {
        deleted: result.deleted.length,
        refused: result.refused.length,
        failed: result.failed.length,
      },
    });
    if (state.unfinished) {
      log.append({
        type: E.RunFinished,
        data: { status: state.cancelled ? "cancelled" : "failed" },
      });
    }
    if (result.failed.length === 0) await secrets.destroy();
    // What cleanup reports is output: a secret inside a path is shown masked.
    return log.masker.maskValue(result);
  } finally {
    // Temp files a killed process left in the run go with the rest of it.
    await removeRunTempDir(dir).catch(() => {});
    terminal?.close();
    log.close();
    await lock.release();
  }
}

/**
 * The template check for build `b`'s local paths, from the run's own
 * template: only when it is the one the run was started with (same
 * template and variables digests). Otherwise no local path can be shown
 * to be the template's; the deletion fails and the entry stays in the
 * ledger, for a cleanup once the template is back.
 */
function scopeFor(
  prepared: PreparedTemplate | undefined,
  state: RunState,
  b: BuildState,
  plugins: PluginSource,
  runDir: string,
): () => Promise<OutputScope> {
  const build = prepared?.builds.find((x) => x.name === b.name);
  return async () => {
    const why = !prepared
      ? "the run's template could not be read"
      : prepared.template.digest !== state.templateDigest
      ? `${prepared.template.file} changed since the run`
      : prepared.inputsDigest !== state.inputsDigest
      ? "the run's variables are no longer known"
      : !build
      ? `the template has no build named ${b.name}`
      : undefined;
    if (why || !prepared || !build) {
      throw new Error(
        `cannot show it is an output of the run's template (${why}); kept in the ledger`,
      );
    }
    return await outputScope({
      prepared,
      build,
      state: b,
      plugins,
      runId: state.runId,
      cwd: state.cwd ?? Deno.cwd(),
      runDir,
    });
  };
}

/**
 * A step that died between logging its intent and logging what it created
 * may have created it: its reconcile finds it (by token/tag) and records it,
 * so it joins the ledger and is deleted with the rest.
 */
async function reconcileInFlight(
  b: BuildState,
  plugin: BuilderPlugin,
  build: PreparedBuild,
  prepared: PreparedTemplate,
  parts: { log: EventLog; runId: string; ui: Ui; secrets: FileSecretStore; signal: AbortSignal },
): Promise<void> {
  const id = b.inFlight;
  const intents = id ? b.steps[id]?.intents ?? [] : [];
  if (!id || intents.length === 0) return;
  const steps = plugin.steps(build.config, {
    runId: parts.runId,
    buildName: b.name,
    templateDir: prepared.template.dir,
  });
  const step = steps.find((s) => s.id === id);
  if (!step?.reconcile) return;
  parts.ui.say(`Looking for what step ${id} created before the crash...`);
  const ctx = makeStepContext({
    log: parts.log,
    runId: parts.runId,
    buildName: b.name,
    builderType: build.type,
    config: build.config,
    state: () => completedOutputs(b),
    ui: parts.ui,
    signal: parts.signal,
    secrets: parts.secrets,
    render: (text, data) =>
      templateApi().renderString(text, {
        variables: prepared.variables,
        templateDir: prepared.template.dir,
        buildName: b.name,
        buildType: build.type,
        data,
      }),
    comm: () => undefined,
  }, id);
  try {
    await step.reconcile(ctx, intents);
  } catch (err) {
    parts.ui.error(`could not look for what step ${id} created: ${errorMessage(err)}`);
  }
}
