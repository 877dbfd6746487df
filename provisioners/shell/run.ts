/**
 * Running one script on the machine the way Packer's shell provisioner
 * does: upload, chmod, execute — as one retryable unit, so a reboot between
 * the upload and the start cannot leave a missing script — then judge the
 * exit status and clean up.
 */
import type { ProvisionContext } from "../provisioner.ts";
import { type StreamSummary, SummarizedStream } from "../shared/output.ts";
import { assertValidExitCode } from "../shared/exit_codes.ts";
import { retryUntil } from "./retry.ts";

/** Packer's "disconnected" pseudo exit status (accepted in valid_exit_codes). */
const CMD_DISCONNECT = 2300218;

/** One script to run. */
export interface ScriptJob {
  localPath: string;
  remotePath: string;
  /** The rendered execute_command. */
  command: string;
  binary: boolean;
  expectDisconnect: boolean;
  validExitCodes: number[];
  skipClean: boolean;
  startRetryTimeoutMs: number;
}

/** How a remote command ended, with a bounded summary of each stream. */
export interface StreamedResult {
  exitStatus: number;
  stdout: StreamSummary;
  stderr: StreamSummary;
}

/** Runs `command`, streaming lines to the UI; returns the exit status and output summaries. */
export async function runStreamed(ctx: ProvisionContext, command: string): Promise<StreamedResult> {
  const out = new SummarizedStream((line) => ctx.ui.message(line), ctx.ui.guard);
  const err = new SummarizedStream((line) => ctx.ui.error(line), ctx.ui.guard);
  let exitStatus: number;
  try {
    ({ exitStatus } = await ctx.comm.start({
      command,
      stdout: (c) => out.push(c),
      stderr: (c) => err.push(c),
      signal: ctx.signal,
    }));
  } finally {
    out.flush();
    err.flush();
  }
  return { exitStatus, stdout: out.summary(), stderr: err.summary() };
}

async function runChecked(
  ctx: ProvisionContext,
  command: string,
  what: string,
  signal: AbortSignal = ctx.signal,
): Promise<void> {
  const { exitStatus } = await ctx.comm.start({ command, signal });
  if (exitStatus !== 0) throw new Error(`${what}: "${command}" exited ${exitStatus}`);
}

function scriptBytes(raw: Uint8Array, binary: boolean): Uint8Array {
  if (binary) return raw;
  // CRLF → LF, as Packer's UnixReader does for non-binary scripts.
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10) continue;
    out[n++] = raw[i];
  }
  return out.subarray(0, n);
}

/**
 * Uploads the env var file (use_env_var_file) as Packer does — CRLF → LF
 * unless `binary`, then `chmod 0600` — retrying through reboots. It is
 * created 0600 as well: Packer's chmod comes after the upload, leaving a
 * moment in which anyone on the machine could read the values.
 */
export async function uploadEnvFile(
  ctx: ProvisionContext,
  remotePath: string,
  content: string,
  options: { binary: boolean; retryMs: number },
): Promise<void> {
  const bytes = scriptBytes(new TextEncoder().encode(content), options.binary);
  await retryUntil(options.retryMs, ctx.signal, async () => {
    try {
      await ctx.comm.upload(remotePath, bytes, { mode: 0o600, size: bytes.length });
    } catch (err) {
      throw new Error(`Error uploading envVarFile: ${(err as Error).message}`);
    }
    // The upload keeps the mode of a file that was already there.
    await runChecked(
      ctx,
      `chmod 0600 ${remotePath}`,
      "Error chmodding env var file to 0600 in remote machine",
    );
  });
}

/** `rm -f path`, retried: after a reboot the machine may still be coming back. */
export async function removeRemote(
  ctx: ProvisionContext,
  path: string,
  retryMs: number,
  signal: AbortSignal = ctx.signal,
): Promise<void> {
  await retryUntil(
    retryMs,
    signal,
    () => runChecked(ctx, `rm -f ${path}`, "Error removing temporary script", signal),
  );
}

/** How long removing the env var file may take once the provisioner has failed or was cancelled. */
const FAILED_CLEANUP_MS = 10_000;

/**
 * Removes the env var file after a failure or a cancel, where Packer leaves
 * it (and the values in it) on the machine. One attempt with its own
 * deadline — the provisioner's signal may be aborted by now, and a machine
 * that is gone must not hold the build up. If it fails, the user is told
 * where the file may still be; the original error stands.
 */
export async function removeEnvFileAfterFailure(
  ctx: ProvisionContext,
  path: string,
): Promise<void> {
  const timeout = new AbortController();
  // A lost connection is re-opened first, which the command's signal does not bound.
  const deadline = new Promise<never>((_, reject) => {
    timeout.signal.addEventListener("abort", () => reject(new Error("timed out")), { once: true });
  });
  deadline.catch(() => {});
  const timer = setTimeout(() => timeout.abort(), FAILED_CLEANUP_MS);
  try {
    await Promise.race([
      runChecked(ctx, `rm -f ${path}`, "Error removing temporary file", timeout.signal),
      deadline,
    ]);
  } catch (err) {
    ctx.ui.error(
      `Could not make sure the environment variable file ${path} is removed: ${
        (err as Error).message
      }`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Uploads and runs one script; throws when its exit status is not valid. */
export async function runScript(ctx: ProvisionContext, job: ScriptJob): Promise<void> {
  const bytes = scriptBytes(await Deno.readFile(job.localPath), job.binary);
  const started = Date.now();
  const result = await retryUntil(job.startRetryTimeoutMs, ctx.signal, async () => {
    try {
      await ctx.comm.upload(job.remotePath, bytes, { mode: 0o755, size: bytes.length });
    } catch (err) {
      throw new Error(`Error uploading script: ${(err as Error).message}`);
    }
    await runChecked(
      ctx,
      `chmod 0755 ${job.remotePath}`,
      "Error chmodding script file to 0755 in remote machine",
    );
    return await runStreamed(ctx, job.command);
  });
  const disconnected = result.exitStatus === -1;
  const status = disconnected ? CMD_DISCONNECT : result.exitStatus;
  await ctx.emit("ShellScriptFinished", {
    script: job.localPath,
    remotePath: job.remotePath,
    exitStatus: status,
    disconnected,
    durationMs: Date.now() - started,
    stdout: result.stdout,
    stderr: result.stderr,
  });
  if (disconnected && !job.validExitCodes.includes(CMD_DISCONNECT)) {
    if (!job.expectDisconnect) {
      throw new Error(
        "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a " +
          'restart, you can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, ' +
          `${CMD_DISCONNECT}]\` to the shell provisioner parameters.`,
      );
    }
  } else {
    assertValidExitCode(status, job.validExitCodes);
  }
  if (!job.skipClean) await removeRemote(ctx, job.remotePath, job.startRetryTimeoutMs);
}
