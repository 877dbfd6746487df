/**
 * The run's own temp directory, `runs/<id>/tmp/` (0700). While a command
 * drives the run, TMPDIR points there, so every temporary file kiln or a
 * local child writes (inline scripts, upload spools — they may hold secrets)
 * lives inside the run: removed when the command ends, and swept by the
 * next command (`--resume`, `cleanup`) when a `kill -9` left some behind.
 * TMPDIR is process-wide, so only the CLI (one run per process) opts in.
 *
 * A TMPDIR the user set is honoured: the directory is then
 * `$TMPDIR/kiln-<id>-<random>/` (a bigger disk, a tmpfs — the user's choice) and
 * `runs/<id>/tmp` is a symlink to it, so later commands still find and
 * sweep it — only after checking the mark kiln left inside (the link could
 * have been aimed elsewhere).
 */
import { basename, join, resolve } from "node:path";

/** Switches TMPDIR to a fresh run temp dir; the returned function removes it and restores TMPDIR. */
export async function useRunTempDir(dir: string): Promise<() => Promise<void>> {
  const link = join(dir, "tmp");
  await removeRunTempDir(dir);
  const previous = Deno.env.get("TMPDIR");
  let tmp = link;
  if (previous) {
    tmp = join(resolve(previous), userTempName(dir, randomSuffix()));
    try {
      await Deno.mkdir(tmp, { mode: 0o700 });
    } catch (err) {
      throw new Error(
        `cannot make the run's temp directory in TMPDIR: ${tmp}: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
    await Deno.writeTextFile(join(tmp, OWNER_MARK), `${basename(dir)}\n`, { mode: 0o600 });
    await Deno.symlink(tmp, link);
  } else await Deno.mkdir(tmp, { mode: 0o700 });
  await Deno.chmod(tmp, 0o700);
  Deno.env.set("TMPDIR", tmp);
  return async () => {
    if (previous === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", previous);
    await removeRunTempDir(dir);
  };
}

/** Removes what a previous (perhaps killed) command left in the run's temp dir. */
export async function removeRunTempDir(dir: string): Promise<void> {
  const link = join(dir, "tmp");
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(link);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (info.isSymlink) {
    const target = await Deno.readLink(link);
    if (await isOwnUserTempDir(dir, target)) await Deno.remove(target, { recursive: true });
    await Deno.remove(link);
    return;
  }
  await Deno.remove(link, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/** Written into the run's directory in a user's TMPDIR: the identity the sweep checks. */
const OWNER_MARK = ".kiln-run-temp";

/**
 * Provenance for the link's target, which a copied or forged run directory
 * could point anywhere: only what useRunTempDir made — a real directory
 * named `kiln-<run id>-<random>`, ours, 0700, holding the mark it wrote naming this
 * run. A directory of the user's has no such mark, and whoever could put one
 * there could delete the directory anyway. Anything else is left alone.
 */
async function isOwnUserTempDir(dir: string, target: string): Promise<boolean> {
  if (!userTempPattern(dir).test(basename(target))) return false;
  const real = await Deno.lstat(target).catch(() => undefined);
  if (
    !real?.isDirectory || real.uid !== Deno.uid() || ((real.mode ?? 0) & 0o777) !== 0o700
  ) return false;
  const mark = join(target, OWNER_MARK);
  const info = await Deno.lstat(mark).catch(() => undefined);
  if (!info?.isFile || info.size > 256) return false;
  return (await Deno.readTextFile(mark)).trim() === basename(dir);
}

/**
 * `kiln-<run id>-<random>`: the run's temp dir inside a user's TMPDIR. The
 * random part keeps two working copies of one run on a machine (runners
 * sharing a run store and a TMPDIR) from meeting in the same directory.
 */
function userTempName(dir: string, suffix: string): string {
  return `kiln-${basename(dir)}-${suffix}`;
}

function userTempPattern(dir: string): RegExp {
  return new RegExp(`^kiln-${basename(dir).replace(/[^A-Za-z0-9]/g, "\\$&")}-[0-9a-f]{8}$`);
}

function randomSuffix(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
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
