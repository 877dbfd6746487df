/**
 * The sweep's judgement, kept free of I/O so every rule can be tested on its
 * own: which kiln-tagged resources are orphans (their run is finished, or
 * unknown to the run store) and which are kept — anything of a run still
 * running or interrupted, anything whose tag is not a run id, and above all
 * the AMIs a succeeded run handed to the user and the snapshots they use.
 */
import { isRunId } from "../../runtime/run_id.ts";
import type { RegionInventory, SweptResource } from "./sweep_inventory.ts";
import { SWEPT_KINDS } from "./sweep_inventory.ts";

/** How the run store sees one run. */
export type RunStatus =
  | "succeeded"
  | "failed"
  | "cancelled"
  | "running"
  | "interrupted"
  | "corrupt";

/** What the sweep needs to know about a run the store holds. */
export interface RunFacts {
  status: RunStatus;
  /**
   * Ids of what the run handed to the user (a succeeded build's AMIs, every
   * artifact's ids): never orphans, whatever else holds.
   */
  results: Set<string>;
  /** Ids of every resource the run's ledger ever recorded. */
  recorded: Set<string>;
  /** The log verified against a seal on this machine: its ledger can prove an AMI is the run's. */
  sealed: boolean;
  /** Why the store cannot read the run (status "corrupt"). */
  problem?: string;
}

/**
 * The run store as the sweep sees it: facts about a run by id, undefined
 * when the store holds no such run. The lead's shared store plugs in here.
 */
export interface RunBook {
  lookup(runId: string): Promise<RunFacts | undefined>;
}

/** A run's standing in the sweep's table. */
export type SweepRunStatus =
  | "finished"
  | "running"
  | "interrupted"
  | "unknown"
  | "corrupt"
  | "invalid";

/** One resource and what the sweep does with it. */
export interface SweepItem {
  resource: SweptResource;
  action: "delete" | "keep";
  /** Why, in words a user reads in the table. */
  reason: string;
}

/** The resources of one run (or of one invalid tag value). */
export interface SweepGroup {
  /** The tag value: a run id, or whatever an invalid tag says. */
  runTag: string;
  status: SweepRunStatus;
  /** succeeded / failed / cancelled for a finished run. */
  outcome?: string;
  /** What the user can do about a group the sweep leaves alone. */
  hint?: string;
  items: SweepItem[];
}

/** The whole plan for one region. */
export interface SweepPlan {
  region: string;
  groups: SweepGroup[];
}

/** Options of planSweep. */
export interface PlanOptions {
  /**
   * Also treat as orphans the AMIs no sealed ledger proves are a finished
   * run's leftovers (those of unknown runs, copies carrying the tags). Never
   * a succeeded run's results.
   */
  includeUnrecordedImages?: boolean;
}

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

/** Judges every resource of an inventory. */
export async function planSweep(
  inventory: RegionInventory,
  book: RunBook,
  options: PlanOptions = {},
): Promise<SweepPlan> {
  const byTag = new Map<string, SweptResource[]>();
  for (const r of inventory.resources) {
    byTag.set(r.runTag, [...byTag.get(r.runTag) ?? [], r]);
  }
  const groups: SweepGroup[] = [];
  for (const [runTag, resources] of [...byTag].sort(([a], [b]) => a.localeCompare(b))) {
    groups.push(await judgeGroup(runTag, sortByKind(resources), book, options));
  }
  settleDependents(groups, inventory);
  return { region: inventory.region, groups };
}

function sortByKind(resources: SweptResource[]): SweptResource[] {
  const order = (r: SweptResource) => SWEPT_KINDS.indexOf(r.kind);
  return [...resources].sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
}

async function judgeGroup(
  runTag: string,
  resources: SweptResource[],
  book: RunBook,
  options: PlanOptions,
): Promise<SweepGroup> {
  const keepAll = (status: SweepRunStatus, reason: string, hint?: string): SweepGroup => ({
    runTag,
    status,
    hint,
    items: resources.map((resource) => ({ resource, action: "keep", reason })),
  });
  // A tag is cloud data anyone with tagging rights can write: only a run id's shape is looked up.
  if (!isRunId(runTag)) {
    return keepAll("invalid", "kiln:run-id is not a run id: never deleted");
  }
  const facts = await book.lookup(runTag);
  if (facts?.status === "running") return keepAll("running", "its run is running");
  if (facts?.status === "interrupted") {
    return keepAll(
      "interrupted",
      "its run is interrupted",
      `resume it (kiln build --resume ${runTag}) or run \`kiln cleanup ${runTag}\``,
    );
  }
  if (facts?.status === "corrupt") {
    return keepAll(
      "corrupt",
      "the run store cannot read its run",
      facts.problem ? `the store says: ${facts.problem}` : undefined,
    );
  }
  const status: SweepRunStatus = facts ? "finished" : "unknown";
  if (facts && !FINISHED.has(facts.status)) {
    return keepAll("corrupt", `its run has an unexpected status "${facts.status}"`);
  }
  const items = resources.map((resource): SweepItem => {
    if (facts?.results.has(resource.id)) {
      return { resource, action: "keep", reason: "a result of its succeeded run" };
    }
    if (resource.kind === "image") return judgeImage(resource, facts, options);
    return {
      resource,
      action: "delete",
      reason: facts ? "its run is finished" : "its run is unknown to this run store",
    };
  });
  return { runTag, status, outcome: facts?.status, items };
}

/**
 * An AMI may be the only copy of something a user relies on: it is an orphan
 * only when a sealed ledger recorded it as the run's and did not hand it over.
 */
function judgeImage(
  resource: SweptResource,
  facts: RunFacts | undefined,
  options: PlanOptions,
): SweepItem {
  if (facts?.sealed && facts.recorded.has(resource.id)) {
    return { resource, action: "delete", reason: "left behind by its finished run" };
  }
  if (options.includeUnrecordedImages) {
    return { resource, action: "delete", reason: "not a result of any run this store knows" };
  }
  const why = !facts
    ? "an AMI of a run this store does not know (another store's result?)"
    : !facts.recorded.has(resource.id)
    ? "an AMI its run's ledger does not record (a copy of a result?)"
    : "an AMI of a run whose log has no seal on this machine";
  return {
    resource,
    action: "keep",
    reason: `${why}: kept; -include-unrecorded-images deletes it`,
  };
}

/**
 * Snapshots and volumes depend on what uses them: a snapshot an AMI still
 * uses is kept unless that AMI is deleted too (then it goes after it), and a
 * volume attached to an instance the sweep keeps is kept with it.
 */
function settleDependents(groups: SweepGroup[], inventory: RegionInventory): void {
  const items = groups.flatMap((g) => g.items);
  const deleted = new Set(
    items.filter((i) => i.action === "delete").map((i) => `${i.resource.kind}:${i.resource.id}`),
  );
  for (const item of items) {
    if (item.action !== "delete") continue;
    const r = item.resource;
    if (r.kind === "snapshot") {
      const kept = (inventory.snapshotImages.get(r.id) ?? []).filter((image) =>
        !deleted.has(`image:${image}`)
      );
      if (kept.length > 0) {
        item.action = "keep";
        item.reason = `used by ${kept.join(", ")}, which the sweep keeps`;
      }
    } else if (r.kind === "volume" && r.attachedTo && !deleted.has(`instance:${r.attachedTo}`)) {
      item.action = "keep";
      item.reason = `attached to ${r.attachedTo}, which the sweep keeps`;
    }
  }
}

/** The resources a plan deletes, in dependency order. */
export function orphansInOrder(plan: SweepPlan): SweptResource[] {
  const orphans = plan.groups.flatMap((g) => g.items).filter((i) => i.action === "delete");
  return sortByKind(orphans.map((i) => i.resource));
}
