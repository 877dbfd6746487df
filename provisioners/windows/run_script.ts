/**
 * Running one script on a Windows machine as Packer's windows-shell and
 * powershell provisioners do: upload and start as one retryable unit (a
 * restart between the two must not leave the command without its script),
 * stream the output, record the outcome in the run log, judge the exit code.
 */
import type { ProvisionContext } from "../provisioner.ts";
import { assertValidExitCode } from "../shared/exit_codes.ts";
import { retryUntil } from "../shell/retry.ts";
import { runStreamed } from "../shell/run.ts";

/** The run-log event recording each Windows script's outcome. */
export const WINDOWS_SCRIPT_EVENT = "WindowsScriptFinished";

/** One script to run. */
export interface WindowsScriptJob {
  /** The local file (for the log and messages). */
  localPath: string;
  /** Its bytes, uploaded unchanged: Windows scripts keep their line endings. */
  bytes: Uint8Array;
  remotePath: string;
  /** Prepares the command line; runs inside the retry (it may upload helper files). */
  command: () => Promise<string>;
  validExitCodes: readonly number[];
  startRetryTimeoutMs: number;
}

/** Uploads and runs one script; throws when its exit code is not valid. */
export async function runWindowsScript(
  ctx: ProvisionContext,
  job: WindowsScriptJob,
): Promise<void> {
  const started = Date.now();
  const result = await retryUntil(job.startRetryTimeoutMs, ctx.signal, async () => {
    const command = await job.command();
    try {
      await ctx.comm.upload(job.remotePath, job.bytes, { size: job.bytes.length });
    } catch (err) {
      throw new Error(`Error uploading script: ${(err as Error).message}`);
    }
    return await runStreamed(ctx, command);
  });
  await ctx.emit(WINDOWS_SCRIPT_EVENT, {
    script: job.localPath,
    remotePath: job.remotePath,
    exitStatus: result.exitStatus,
    durationMs: Date.now() - started,
    stdout: result.stdout,
    stderr: result.stderr,
  });
  if (result.exitStatus === -1) {
    throw new Error(
      `The connection to the machine was lost while ${job.localPath} ran, so its exit code is ` +
        "unknown. If the script restarts the machine, restart with a windows-restart provisioner " +
        "instead.",
    );
  }
  assertValidExitCode(result.exitStatus, job.validExitCodes);
}
