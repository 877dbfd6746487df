/**
 * Restarting a Windows machine and waiting until it is back, the way
 * Packer's windows-restart does: run the restart command, make sure the
 * machine is really going down (a test `shutdown` that is refused while a
 * shutdown is in progress), then poll through the communicator — which
 * reconnects on its own — until a PowerShell check answers, optionally
 * until no pending-reboot registry key is left. Everything is bounded by
 * restart_timeout.
 */
import type { ProvisionContext } from "../provisioner.ts";
import { setLongTimeout, sleep } from "../../runtime/sleep.ts";
import { retryUntil } from "../shell/retry.ts";
import { runStreamed, type StreamedResult } from "../shell/run.ts";
import { powershellEncoded } from "./powershell_command.ts";

/** Packer's default restart_command. */
export const DEFAULT_RESTART_COMMAND = `shutdown /r /f /t 0 /c "packer restart"`;

/** Packer's default restart_check_command: prints "<host> restarted.". */
export const DEFAULT_RESTART_CHECK_COMMAND = powershellEncoded(
  `echo ("{0} restarted." -f [System.Net.Dns]::GetHostName())`,
);

/** Asks for a second restart in a minute: refused (1115/1190) while one is under way. */
export const TRY_RESTART_COMMAND = `shutdown /r /f /t 60 /c "packer restart test"`;

/** Cancels the test restart when it was accepted. */
export const ABORT_RESTART_COMMAND = `shutdown /a`;

/** Registry keys whose presence means another reboot is pending (check_registry). */
export const DEFAULT_REGISTRY_KEYS: readonly string[] = [
  "HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
  "HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending",
  "HKLM:Software\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootInProgress",
];

/** The run-log event recording a completed restart and how long the machine was awaited. */
export const RESTART_EVENT = "MachineRestarted";

/** Windows: a shutdown is in progress (1115), is scheduled (1190), or RPC is down (1717). */
const SHUTDOWN_UNDER_WAY = [1115, 1190, 1717];

/** What to run and how long to wait. */
export interface RestartOptions {
  restartCommand: string;
  checkCommand: string;
  timeoutMs: number;
  checkRegistry: boolean;
  registryKeys: readonly string[];
  /** Pause before each availability check (Packer: 5 s). */
  pollMs?: number;
  /** Pause when the test restart says a shutdown is still under way (Packer: 10 s). */
  busyMs?: number;
  /** Pause between tries of the restart command itself. */
  retryMs?: number;
}

/** Restarts the machine and resolves once it answers again; throws on timeout. */
export async function restartMachine(ctx: ProvisionContext, o: RestartOptions): Promise<void> {
  ctx.ui.say("Restarting Machine");
  const first = await retryUntil(
    o.timeoutMs,
    ctx.signal,
    () => runStreamed(ctx, o.restartCommand),
    o.retryMs,
  );
  // -1: the connection dropped while the command ran — the machine went down as asked.
  if (![0, 1115, 1190, -1].includes(first.exitStatus)) {
    throw new Error(`Restart script exited with non-zero exit status: ${first.exitStatus}`);
  }
  ctx.ui.say("Waiting for machine to restart...");
  const waitStarted = Date.now();
  const deadline = new AbortController();
  const cancelTimer = setLongTimeout(() => deadline.abort(), o.timeoutMs);
  const bounded: ProvisionContext = {
    ...ctx,
    signal: AbortSignal.any([ctx.signal, deadline.signal]),
  };
  try {
    await waitUntilDown(bounded, o.busyMs ?? 10_000);
    await waitUntilBack(bounded, o);
  } catch (err) {
    if (!deadline.signal.aborted || ctx.signal.aborted) throw err;
    const message = "Timeout waiting for machine to restart.";
    ctx.ui.error(message);
    throw new Error(message);
  } finally {
    cancelTimer();
  }
  await ctx.emit(RESTART_EVENT, { waitedMs: Date.now() - waitStarted });
  ctx.ui.say("Machine successfully restarted, moving on");
}

/** Runs a command; undefined when it could not run at all (the machine is away). */
async function tryRun(ctx: ProvisionContext, command: string): Promise<StreamedResult | undefined> {
  try {
    return await runStreamed(ctx, command);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return undefined;
  }
}

async function waitUntilDown(ctx: ProvisionContext, busyMs: number): Promise<void> {
  for (;;) {
    const probe = await tryRun(ctx, TRY_RESTART_COMMAND);
    if (probe === undefined) return;
    if (probe.exitStatus === 0) {
      // Accepted: the restart already happened and the machine is back. Cancel the test one.
      await tryRun(ctx, ABORT_RESTART_COMMAND);
      return;
    }
    if (!SHUTDOWN_UNDER_WAY.includes(probe.exitStatus)) return;
    await sleep(busyMs, ctx.signal);
  }
}

const said = (result: StreamedResult | undefined, text: string) =>
  result !== undefined && result.stdout.tail.some((line) => line.includes(text));

async function waitUntilBack(ctx: ProvisionContext, o: RestartOptions): Promise<void> {
  let customCheckPending = o.checkCommand !== DEFAULT_RESTART_CHECK_COMMAND;
  for (;;) {
    await sleep(o.pollMs ?? 5_000, ctx.signal);
    if (customCheckPending) {
      const custom = await tryRun(ctx, o.checkCommand);
      if (custom === undefined || custom.exitStatus !== 0) continue;
      customCheckPending = false;
    }
    // Early in a boot WinRM may answer before PowerShell can run: insist on its output.
    if (!said(await tryRun(ctx, DEFAULT_RESTART_CHECK_COMMAND), "restarted.")) continue;
    if (o.checkRegistry && await rebootPending(ctx, o.registryKeys)) continue;
    return;
  }
}

async function rebootPending(ctx: ProvisionContext, keys: readonly string[]): Promise<boolean> {
  for (const key of keys) {
    const result = await tryRun(ctx, powershellEncoded(`Test-Path "${key}"`));
    if (result === undefined || said(result, "True")) return true;
  }
  return false;
}
