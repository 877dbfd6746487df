/**
 * Packer's output directory step: the directory must not exist (with
 * `-force` an existing one is removed first, as Packer does), is created,
 * and holds the image. It is a ledger resource that is part of the result:
 * a build that fails or is cancelled removes it, a finished one keeps it.
 *
 * Write-ahead: the claim (the path was absent at this time) is logged
 * before `mkdir`, so after a crash in between, a directory born after the
 * claim is shown to be this run's, and one born before is never touched.
 */
import { resolve } from "node:path";
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { localPathHandler, madeRecord } from "../../runtime/local_path_resource.ts";
import { identityOf } from "../../runtime/local_identity.ts";
import { type OutputDirOutput, QEMU_STEP } from "./outputs.ts";

/** The ledger kind of the output directory. */
export const OUTPUT_DIR_KIND = "qemu.output_directory";

/** Removes the output directory, only the one this run made, recursively. */
export const outputDirHandler: ResourceHandler = localPathHandler;

/** File system clocks lag the wall clock by up to a tick. */
const CLOCK_SLACK_MS = 100;

async function adopt(ctx: StepContext, dir: string): Promise<OutputDirOutput | undefined> {
  const record = await madeRecord(OUTPUT_DIR_KIND, dir, {}, { createdByRun: true });
  if (!record) return undefined;
  await ctx.created(record);
  return { dir };
}

/** Creates the output directory. */
export function outputDirStep(): Step<OutputDirOutput> {
  return {
    id: QEMU_STEP.outputDir,
    async run(ctx) {
      const dir = resolve(String(ctx.config.output_directory));
      const existing = await identityOf(dir);
      if (existing) {
        if (!ctx.runtime?.force) {
          throw new Error(
            `Output directory exists: ${dir}\n\nUse the force flag to delete it prior to building.`,
          );
        }
        ctx.ui.say(`Deleting previous output directory... (${dir}, -force)`);
        await Deno.remove(dir, { recursive: true });
      }
      await ctx.intent({
        kind: OUTPUT_DIR_KIND,
        token: dir,
        data: { path: dir, claimedAt: new Date().toISOString() },
      });
      ctx.ui.say("Creating output directory...");
      await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
      const out = await adopt(ctx, dir);
      if (!out) throw new Error(`${dir} vanished right after it was created`);
      return out;
    },
    /** A directory born after the claim is the interrupted attempt's; anything else is not. */
    async reconcile(ctx, intents) {
      const claim = intents.filter((i) => i.kind === OUTPUT_DIR_KIND).at(-1);
      if (!claim) return undefined;
      const dir = String(claim.data?.path ?? claim.token);
      const current = await identityOf(dir);
      if (!current) return undefined;
      const claimedAt = Date.parse(String(claim.data?.claimedAt));
      if (
        current.type !== "dir" || current.birthMs === null || !Number.isFinite(claimedAt) ||
        current.birthMs < claimedAt - CLOCK_SLACK_MS
      ) {
        throw new Error(
          `Output directory ${dir} appeared while this run was interrupted and cannot be shown ` +
            "to be this run's; it is left alone. Remove it (or build with -force) and build again.",
        );
      }
      return await adopt(ctx, dir);
    },
  };
}
