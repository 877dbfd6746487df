/**
 * Writing a post-processor's output file so that an interrupted build never
 * leaves a truncated file under the final name: the bytes go to a partial
 * file named after the run and build, renamed into place when complete.
 * The partial name is what a post-processor's `scratch` reports, so the
 * runtime claims it in the ledger before a byte is written.
 */
import type { PostProcessContext } from "./post_processor.ts";

/**
 * Where `target` is written before it is renamed into place: named after
 * the run, and created exclusively, so it is provably this run's and a
 * symlink planted there is never written through. The build's name is part
 * of it: builds of one run that share an output must not remove each
 * other's partial file (the last rename wins, as in Packer).
 */
export function partialOf(target: string, ctx: PostProcessContext): string {
  const build = (ctx.runBuildName ?? ctx.buildName).replace(/[^A-Za-z0-9_.-]/g, "_");
  return `${target}.kiln-${ctx.runId}-${build}.partial`;
}

/** Writes `bytes` to `target` through the temporary file `partial`, renamed at the end. */
export async function writeAtomically(
  target: string,
  partial: string,
  bytes: AsyncIterable<Uint8Array>,
): Promise<void> {
  // An earlier attempt of this run (its name says so) may have left it.
  await Deno.remove(partial).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  try {
    using file = await Deno.open(partial, { write: true, createNew: true });
    for await (const chunk of bytes) {
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
    }
  } catch (err) {
    await Deno.remove(partial).catch(() => {});
    throw err;
  }
  await Deno.rename(partial, target);
}
