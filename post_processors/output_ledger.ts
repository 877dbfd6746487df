/**
 * Post-processor outputs in the run's ledger, under the same rule as the
 * builder's artifact: files this run wrote are deleted when the build does
 * not finish (compensation, `kiln cleanup`) and kept once it succeeded.
 * A file that existed before the run is never claimed: checksum appends to
 * one, artifice only names one, and neither makes it this run's to delete.
 */
import { resolve } from "node:path";
import type { ResourceHandler, ResourceRecord } from "../runtime/types.ts";

/** The ledger kind of a file a post-processor wrote. */
export const POST_PROCESSOR_OUTPUT = "post-processor.output";

/** The ledger record for `path`, written by post-processor `key` ("chain:index"). */
export function outputRecord(path: string, key: string): ResourceRecord {
  const abs = resolve(path);
  return { kind: POST_PROCESSOR_OUTPUT, id: abs, data: { path: abs, postProcessor: key } };
}

/**
 * Whether `path` came into being at or after `since` (the build's start):
 * then this run made it. Without a birth time the answer is no, so a file
 * whose origin cannot be proven is left alone.
 */
export async function madeSince(path: string, since: Date): Promise<boolean> {
  try {
    const born = (await Deno.lstat(path)).birthtime;
    return born !== null && born.getTime() >= since.getTime();
  } catch {
    return false;
  }
}

/** Deletes a post-processor's output; an absent file counts as deleted. */
export const outputFileHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const path = String(resource.data?.path ?? resource.id);
    try {
      await Deno.remove(path, { recursive: true });
      ctx.ui.say(`Deleted ${path}`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  },
};

/** Handlers the runtime supplies whatever the builder (post-processors run after any). */
export const runtimeResourceHandlers: Record<string, ResourceHandler> = {
  [POST_PROCESSOR_OUTPUT]: outputFileHandler,
};
