/**
 * The run store as `kiln sweep` reads it: for a run id, its status, the ids
 * its ledger recorded and the ids it handed to the user. Only this file
 * knows where runs live, so a shared store plugs in here.
 */
import { loadRun, runStatus } from "../runtime/run_store.ts";
import { runStoreBackend } from "../runtime/replica.ts";
import { kilnHome, runDir } from "../runtime/paths.ts";
import { errorMessage } from "../runtime/errors.ts";
import type { RunState } from "../runtime/fold.ts";
import type { Artifact } from "../runtime/types.ts";
import type { RunBook, RunFacts, RunStatus } from "../steps/aws/sweep_plan.ts";

/**
 * A RunBook over the runs under `home` (KILN_HOME by default), or over the
 * shared store's runs when one is in use (their working copies under `home`).
 */
export function storeRunBook(home: string = kilnHome()): RunBook {
  const store = runStoreBackend();
  // One listing per sweep; a store that cannot be listed stops the sweep (never "unknown").
  let inStore: Promise<Set<string>> | undefined;
  return {
    async lookup(runId) {
      if (store) {
        inStore ??= store.list().then((ids) => new Set(ids));
        if (!(await inStore).has(runId)) return undefined;
      } else {
        try {
          await Deno.stat(runDir(runId, home));
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) return undefined;
          throw err;
        }
      }
      try {
        const { state, contents } = await loadRun(runId, home);
        return factsOf(
          state,
          await runStatus(state, home) as RunStatus,
          contents.seal !== undefined,
        );
      } catch (err) {
        return {
          status: "corrupt",
          results: new Set(),
          recorded: new Set(),
          sealed: false,
          problem: errorMessage(err),
        };
      }
    },
  };
}

/** The sweep's facts from a folded run. */
export function factsOf(state: RunState, status: RunStatus, sealed: boolean): RunFacts {
  const results = new Set<string>();
  const recorded = new Set<string>();
  for (const b of Object.values(state.builds)) {
    for (const e of b.resources) {
      recorded.add(e.resource.id);
      // What cleanup keeps: a succeeded build's live, non-temporary resources (its AMIs).
      if (b.status === "succeeded" && !e.deletedAt && !e.released && !e.resource.temporary) {
        results.add(e.resource.id);
      }
    }
    const artifacts = [
      b.artifact,
      ...b.artifacts,
      ...Object.values(b.postProcessed).map((p) => p.artifact),
    ];
    for (const a of artifacts) for (const id of artifactIds(a)) results.add(id);
  }
  return { status, results, recorded, sealed };
}

/**
 * Every cloud id an artifact names: the AMI map of the amazon builders'
 * state and the `region:ami-…` pairs of its id, so a result is protected
 * even when its ledger entry is gone.
 */
function artifactIds(artifact: Artifact | undefined): string[] {
  if (!artifact) return [];
  const ids = String(artifact.id ?? "").split(",").map((pair) => pair.split(":").at(-1) ?? "");
  const amis = (artifact.state as { amis?: Record<string, unknown> } | undefined)?.amis;
  if (amis && typeof amis === "object") ids.push(...Object.values(amis).map(String));
  return ids.filter((id) => id !== "");
}
