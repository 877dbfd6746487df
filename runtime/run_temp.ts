/**
 * The run's own temp directory, `runs/<id>/tmp/` (0700). While a command
 * drives the run, TMPDIR points there, so every temporary file kiln or a
 * local child writes (inline scripts, upload spools — they may hold secrets)
 * lives inside the run: removed when the command ends, and swept by the
 * next command (`--resume`, `cleanup`) when a `kill -9` left some behind.
 * TMPDIR is process-wide, so only the CLI (one run per process) opts in.
 */
import { join } from "node:path";

/** Switches TMPDIR to a fresh `<dir>/tmp`; the returned function removes it and restores TMPDIR. */
export async function useRunTempDir(dir: string): Promise<() => Promise<void>> {
  const tmp = join(dir, "tmp");
  await removeRunTempDir(dir);
  await Deno.mkdir(tmp, { mode: 0o700 });
  await Deno.chmod(tmp, 0o700);
  const previous = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", tmp);
  return async () => {
    if (previous === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", previous);
    await removeRunTempDir(dir);
  };
}

/** Removes what a previous (perhaps killed) command left in `<dir>/tmp`. */
export async function removeRunTempDir(dir: string): Promise<void> {
  await Deno.remove(join(dir, "tmp"), { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/**
 * The run's work directory, `runs/<id>/work/`: what a build keeps for as
 * long as the run lives, across processes (a VM's control socket and log,
 * its boot media), unlike `tmp/`, which each command sweeps. Builders
 * record what they make there in the ledger; cleanup removes it.
 */
export function runWorkDir(dir: string): string {
  return join(dir, "work");
}
