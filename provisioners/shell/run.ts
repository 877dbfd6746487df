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

async function runChecked(ctx: ProvisionContext, command: string, what: string): Promise<void> {
  const { exitStatus } = await ctx.comm.start({ command, signal: ctx.signal });
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

/** Uploads the env-var file (use_env_var_file), retrying through reboots. */
export async function uploadEnvFile(
  ctx: ProvisionContext,
  remotePath: string,
  content: string,
  retryMs: number,
): Promise<void> {
  const bytes = new TextEncoder().encode(content);
  await retryUntil(retryMs, ctx.signal, async () => {
    await ctx.comm.upload(remotePath, bytes, { mode: 0o644, size: bytes.length });
  });
}

/** `rm -f path`, retried: after a reboot the machine may still be coming back. */
export async function removeRemote(
  ctx: ProvisionContext,
  path: string,
  retryMs: number,
): Promise<void> {
  await retryUntil(
    retryMs,
    ctx.signal,
    () => runChecked(ctx, `rm -f ${path}`, "Error removing temporary script"),
  );
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
