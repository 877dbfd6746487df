/**
 * Removing what the powershell provisioner uploaded, as Packer does: a small
 * script of `Remove-Item` lines (ending with itself) is uploaded and run
 * through execute_command. A failure here does not fail the build — the
 * work is done — but the user is told which files were left behind.
 */
import type { ProvisionContext } from "../provisioner.ts";
import { retryUntil } from "../shell/retry.ts";
import { runStreamed } from "../shell/run.ts";

/** Packer tries the cleanup for a minute, every ten seconds. */
const CLEANUP_TIMEOUT_MS = 60_000;
const CLEANUP_INTERVAL_MS = 10_000;

/** What to remove and how to run the removal script. */
export interface CleanupJob {
  files: string[];
  /** Where the removal script itself goes (it removes itself last). */
  cleanupPath: string;
  /** The command line that runs the script at `path`. */
  command: (path: string) => string;
}

/** The removal script: one guarded Remove-Item per file. */
export function cleanupScript(files: readonly string[]): string {
  return files.map((file) => `if (Test-Path ${file}) {Remove-Item ${file}}\n`).join("");
}

/** Uploads and runs the removal script; never throws for a failed cleanup. */
export async function removeUploads(ctx: ProvisionContext, job: CleanupJob): Promise<void> {
  const bytes = new TextEncoder().encode(cleanupScript([...job.files, job.cleanupPath]));
  try {
    // Only a failure to upload or start is retried: a script that ran and failed would fail again.
    const { exitStatus } = await retryUntil(CLEANUP_TIMEOUT_MS, ctx.signal, async () => {
      await ctx.comm.upload(job.cleanupPath, bytes, { size: bytes.length });
      return await runStreamed(ctx, job.command(job.cleanupPath));
    }, CLEANUP_INTERVAL_MS);
    if (exitStatus !== 0) throw new Error(`the cleanup script exited ${exitStatus}`);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.ui.error(
      `Could not remove the uploaded scripts (${job.files.join(", ")}): ${(err as Error).message}`,
    );
  }
}
