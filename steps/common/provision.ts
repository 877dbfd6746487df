/**
 * The provision step: runs the build's provisioners in template order, each
 * logged (ProvisionerStarted/Succeeded/Failed with its index) so a resumed
 * run skips the ones that already succeeded. Applies the common options
 * (pause_before, max_retries, timeout) and renders each config right before
 * it runs, when `build` data from the connect step is known.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import type { PreparedProvisioner } from "../../template/types.ts";
import type { ProvisionContext } from "../../runtime/plugin_types.ts";
import { EventType as E } from "../../runtime/events.ts";
import { errorMessage, ProvisioningError } from "../../runtime/errors.ts";
import { humanDuration } from "../../runtime/duration.ts";
import { templateApi } from "../../runtime/template_bridge.ts";
import { ensureCommunicator } from "./connect.ts";
import { setLongTimeout, sleep } from "../../runtime/sleep.ts";

/** The step id builders list it under. */
export const PROVISION_STEP_ID = "common.provision";

/** What the provision step records. */
export interface ProvisionOutput {
  /** Indices of the provisioners that ran for this build. */
  provisioners: number[];
}

/** The provision step. */
export function provisionStep(): Step<ProvisionOutput> {
  return {
    id: PROVISION_STEP_ID,
    async run(ctx) {
      const rt = ctx.runtime;
      if (!rt) throw new Error("internal: the provision step needs kiln's build runtime");
      const list = rt.build.provisioners;
      for (const p of list) {
        if (rt.provisionersDone().includes(p.index)) continue;
        await runProvisioner(ctx, p, false);
      }
      return { provisioners: list.map((p) => p.index) };
    },
  };
}

/**
 * Runs the build's error-cleanup-provisioner, if it has one (after a failed
 * provisioning, before the machine is torn down).
 */
export async function runErrorCleanupProvisioner(ctx: StepContext): Promise<void> {
  const p = ctx.runtime?.build.errorCleanupProvisioner;
  // A resumed run may fail provisioning again; the cleanup provisioner still runs once.
  if (ctx.runtime?.errorCleanupDone?.()) return;
  ctx.ui.say("Provisioning step had errors: Running the cleanup provisioner, if present...");
  if (!p) return;
  try {
    await runProvisioner(ctx, p, true);
  } catch (err) {
    ctx.ui.error(`Error cleanup provisioner failed: ${errorMessage(err)}`);
  }
}

async function runProvisioner(
  ctx: StepContext,
  p: PreparedProvisioner,
  errorCleanup: boolean,
): Promise<void> {
  const rt = ctx.runtime!;
  const plugin = await rt.loadProvisioner(p.type);
  if (!plugin) throw new ProvisioningError(p.index, `unknown provisioner type "${p.type}"`);
  if (p.pauseBefore > 0) {
    ctx.ui.say(`Pausing ${humanDuration(p.pauseBefore)} before the next provisioner...`);
    await sleep(p.pauseBefore, ctx.signal);
  }
  const tag = { index: p.index, type: p.type, ...(errorCleanup ? { errorCleanup: true } : {}) };
  await ctx.emit(E.ProvisionerStarted, tag);
  const comm = await ensureCommunicator(ctx);
  const renderCtx = () => ({
    variables: rt.variables,
    templateDir: rt.templateDir,
    buildName: rt.build.sourceName ?? ctx.buildName,
    buildType: ctx.builderType,
    buildData: rt.buildData,
  });
  // The provisioner's own events are written together with its outcome: a
  // crash after "script finished" but before "provisioner succeeded" would
  // otherwise make a resume run a provisioner whose work is done.
  const pending: { type: string; data: Record<string, unknown> }[] = [];
  const settle = async (type: string, data: Record<string, unknown>) => {
    const events = [...pending.splice(0), { type, data }];
    if (ctx.emitAll) await ctx.emitAll(events);
    else for (const e of events) await ctx.emit(e.type, e.data);
  };
  for (let attempt = 0;; attempt++) {
    const timeout = new AbortController();
    const cancelTimer = p.timeout > 0
      ? setLongTimeout(
        () => timeout.abort(new Error(`provisioner timed out after ${humanDuration(p.timeout)}`)),
        p.timeout,
      )
      : undefined;
    const signal = AbortSignal.any([ctx.signal, timeout.signal]);
    try {
      const config = await templateApi().resolveBuildData(p.config, plugin.schema, renderCtx());
      const pctx: ProvisionContext = {
        runId: ctx.runId,
        // PACKER_BUILD_NAME: in HCL2 the source's name, as Packer sets it.
        buildName: rt.build.sourceName ?? ctx.buildName,
        builderType: ctx.builderType,
        comm,
        ui: ctx.ui,
        signal,
        secrets: ctx.secrets,
        buildData: rt.buildData,
        render: (text, data) => templateApi().renderString(text, { ...renderCtx(), data }),
        // What the provisioner starts is on disk before it runs; what ended is
        // written with the outcome, so finishing adds no crash point before it.
        ledger: {
          intent: ctx.intent,
          created: ctx.created,
          deleted: (r) => {
            pending.push({ type: E.ResourceDeleted, data: { kind: r.kind, id: r.id } });
            return Promise.resolve();
          },
        },
        emit: (type, data = {}) => {
          const tagged = { index: p.index, ...data };
          // Progress says nothing about the outcome, so it need not wait for it;
          // written at once, it lets a watcher follow a long transfer.
          if (type === E.FileTransferProgress) return ctx.emit(type, tagged);
          pending.push({ type, data: tagged });
          return Promise.resolve();
        },
      };
      await plugin.provision(pctx, config);
      await settle(E.ProvisionerSucceeded, tag);
      return;
    } catch (err) {
      const message = timeout.signal.aborted
        ? errorMessage(timeout.signal.reason)
        : errorMessage(err);
      if (!ctx.signal.aborted && attempt < p.maxRetries) {
        ctx.ui.say(
          `Provisioner failed with "${message}", retrying with ${
            p.maxRetries - attempt
          } trie(s) left`,
        );
        // The failed attempt's own events go out with the retry, so the log
        // shows each attempt (and what it cleaned up) where it happened.
        await settle(E.ProvisionerRetrying, { ...tag, attempt: attempt + 1, error: message });
        continue;
      }
      await settle(E.ProvisionerFailed, { ...tag, error: message });
      throw new ProvisioningError(p.index, message);
    } finally {
      cancelTimer?.();
    }
  }
}
