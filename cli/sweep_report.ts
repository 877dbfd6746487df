/**
 * One region of `kiln sweep`: list, judge, print the table, and with
 * --delete delete the orphans and print what happened to each. Tag values
 * are cloud data anyone allowed to tag can write: they are printed escaped,
 * never as raw terminal text.
 */
import type { CommandOutput } from "./machine_readable.ts";
import { ec2For } from "../steps/aws/client.ts";
import type { AccessConfig } from "../steps/aws/client.ts";
import { inventoryRegion } from "../steps/aws/sweep_inventory.ts";
import {
  orphansInOrder,
  planSweep,
  type RunBook,
  type SweepGroup,
  type SweepPlan,
} from "../steps/aws/sweep_plan.ts";
import { deleteOrphans } from "../steps/aws/sweep_delete.ts";
import { errorMessage } from "../runtime/errors.ts";

/** Options of sweepRegion. */
export interface SweepRegionOptions {
  delete: boolean;
  includeUnrecordedImages: boolean;
  access: AccessConfig;
  signal?: AbortSignal;
}

/** How one region's sweep went. */
export interface SweepReport {
  plan?: SweepPlan;
  /** Listing worked and every deletion asked for succeeded. */
  ok: boolean;
}

/** Sweeps one region, printing through `out`. */
export async function sweepRegion(
  region: string,
  book: RunBook,
  out: CommandOutput,
  options: SweepRegionOptions,
): Promise<SweepReport> {
  // One config object: the EC2 client is cached per config and region (steps/aws/client.ts).
  const config: Record<string, unknown> = { ...options.access };
  // The handlers' own headlines repeat the "deleted:" lines; their retries and errors
  // are shown, escaped: a key pair's name is cloud data too.
  const ui = {
    say: () => {},
    message: (m: string) => out.say(`    ${printable(m, 1000)}`),
    error: (m: string) => out.error(printable(m, 1000)),
  };
  let plan: SweepPlan;
  try {
    const ec2 = await ec2For({ config, ui }, region);
    plan = await planSweep(await inventoryRegion(ec2, region), book, {
      includeUnrecordedImages: options.includeUnrecordedImages,
    });
  } catch (err) {
    out.error(
      `kiln sweep: cannot list ${printable(region)}: ${printable(errorMessage(err), 1000)}`,
    );
    return { ok: false };
  }
  printPlan(plan, out, options.delete);
  if (!options.delete) return { plan, ok: true };
  const orphans = orphansInOrder(plan);
  if (orphans.length === 0) return { plan, ok: true };
  out.say("");
  out.say(`==> ${region}: deleting ${orphans.length} orphan(s)`);
  const outcomes = await deleteOrphans(
    orphans,
    { config, ui, signal: options.signal ?? new AbortController().signal },
    {
      start: (r) => out.say(`    deleting ${r.kind} ${printable(r.id)}...`),
      done: (o) => {
        const r = o.resource;
        const fields = [r.region, printable(r.runTag), r.kind, printable(r.id)];
        if ("error" in o) {
          out.error(`    failed: ${r.kind} ${printable(r.id)}: ${printable(o.error, 1000)}`);
          out.machine("sweep-failed", ...fields, printable(o.error, 1000));
        } else {
          out.say(`    deleted: ${r.kind} ${printable(r.id)}`);
          out.machine("sweep-deleted", ...fields);
        }
      },
    },
  );
  const failed = outcomes.filter((o) => "error" in o).length;
  out.say(
    `==> ${region}: ${outcomes.length - failed} deleted` + (failed ? `, ${failed} failed` : ""),
  );
  return { plan, ok: failed === 0 };
}

function printPlan(plan: SweepPlan, out: CommandOutput, deleting: boolean): void {
  const items = plan.groups.flatMap((g) => g.items);
  const orphans = items.filter((i) => i.action === "delete").length;
  out.say(
    `==> ${plan.region}: ${items.length} kiln-tagged resource(s) of ${plan.groups.length} ` +
      `run(s); ${orphans} orphan(s)` +
      (orphans && !deleting ? " (nothing deleted: add -delete to delete them)" : ""),
  );
  for (const group of plan.groups) {
    out.say("");
    out.say(groupHeading(group));
    if (group.hint) out.say(`    ${printable(group.hint)}`);
    const kindWidth = Math.max(...group.items.map((i) => i.resource.kind.length));
    const idWidth = Math.max(...group.items.map((i) => printable(i.resource.id).length));
    for (const item of group.items) {
      const r = item.resource;
      const build = r.build === undefined ? "" : ` (build ${printable(r.build)})`;
      out.say(
        `    ${item.action === "delete" ? "orphan" : "kept  "}  ${r.kind.padEnd(kindWidth)}  ` +
          `${printable(r.id).padEnd(idWidth)}  ${item.reason}${build}`,
      );
      out.machine(
        "sweep-resource",
        plan.region,
        printable(group.runTag),
        group.status,
        group.outcome ?? "",
        r.kind,
        printable(r.id),
        printable(r.build ?? ""),
        item.action === "delete" ? "orphan" : "kept",
        item.reason,
      );
    }
  }
}

function groupHeading(group: SweepGroup): string {
  const tag = printable(group.runTag);
  switch (group.status) {
    case "invalid":
      return `Tag value ${tag}: not a run id`;
    case "finished":
      return `Run ${tag}: finished (${group.outcome})`;
    case "unknown":
      return `Run ${tag}: unknown (not in this run store)`;
    default:
      return `Run ${tag}: ${group.status}`;
  }
}

/**
 * Cloud-supplied text made safe to print: control characters (terminal
 * escape sequences, newlines that would forge table rows) shown escaped,
 * and no longer than a table cell should be.
 */
export function printable(text: string, max = 120): string {
  const escaped = text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.length > max ? `${escaped.slice(0, max - 3)}...` : escaped;
}
