/**
 * Runs a local Ansible command (ansible-playbook, ansible-galaxy) as a
 * resource of the run: its own process group, recorded in the ledger before
 * it starts, output streamed line by line to the user, and its outcome and
 * a bounded output summary in the run log. A non-zero exit is Packer's
 * "Non-zero exit status: exit status N".
 */
import type { ProvisionContext } from "../provisioner.ts";
import { runLocalCommand, StartError } from "../shared/local_process.ts";

/** The event recording each Ansible command's outcome. */
export const ANSIBLE_COMMAND_EVENT = "AnsibleCommandFinished";

/** Runs `argv` with `env` on top of kiln's environment; throws unless it exits 0. */
export async function runAnsibleCommand(
  ctx: ProvisionContext,
  argv: string[],
  env: Record<string, string>,
  label: string,
): Promise<void> {
  const started = Date.now();
  let result;
  try {
    result = await runLocalCommand(argv, {
      signal: ctx.signal,
      env: { PYTHONUNBUFFERED: "1", ...env },
      stdout: (line) => ctx.ui.message(line),
      stderr: (line) => ctx.ui.message(line),
      guard: ctx.ui.guard,
      ledger: ctx.ledger,
      label,
      say: (m) => ctx.ui.say(m),
    });
  } catch (err) {
    if (err instanceof StartError) throw new Error(err.message);
    throw err;
  }
  await ctx.emit(ANSIBLE_COMMAND_EVENT, {
    command: label,
    exitStatus: result.code,
    ...(result.signal ? { signal: result.signal } : {}),
    durationMs: Date.now() - started,
    stdout: result.stdout,
    stderr: result.stderr,
  });
  if (result.code !== 0) {
    throw new Error(`Non-zero exit status: exit status ${result.code}`);
  }
}
