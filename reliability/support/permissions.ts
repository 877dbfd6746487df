/**
 * File modes of a run (DESIGN.md: run directories 0700, logs and secrets
 * 0600) and the rule that key material does not outlive the command that
 * used it: once a command has finished with the run — success, failure,
 * cancel or cleanup — no private key is left in its secret store.
 */
import { join } from "node:path";
import { runDir } from "../../runtime/paths.ts";
import { INPUTS_SECRET } from "../../runtime/run_build.ts";

function mode(info: Deno.FileInfo): string {
  return ((info.mode ?? 0) & 0o777).toString(8).padStart(4, "0");
}

/**
 * Problems with run `runId`'s modes; with `finished`, also every secret but
 * the kept inputs (which `--resume` re-reads) that is still on disk.
 */
export async function checkModes(
  home: string,
  runId: string,
  options: { finished: boolean },
): Promise<string[]> {
  const problems: string[] = [];
  const dir = runDir(runId, home);
  const expect = async (path: string, want: string, what: string) => {
    try {
      const got = mode(await Deno.stat(path));
      if (got !== want) problems.push(`${what} is ${got}, expected ${want}`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) problems.push(`${what}: ${err}`);
    }
  };
  await expect(dir, "0700", "run directory");
  await expect(join(dir, "events.jsonl"), "0600", "events.jsonl");
  await expect(join(dir, "lock"), "0600", "lock");
  const secrets = join(dir, "secrets");
  await expect(secrets, "0700", "secrets/");
  try {
    for await (const e of Deno.readDir(secrets)) {
      await expect(join(secrets, e.name), "0600", `secrets/${e.name}`);
      if (options.finished && e.name !== INPUTS_SECRET) {
        problems.push(`secrets/${e.name} is still on disk after the command finished`);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) problems.push(`secrets/: ${err}`);
  }
  for await (const e of Deno.readDir(dir)) {
    if (options.finished && e.name === "tmp") {
      problems.push("the run's tmp/ (temporary files) is still on disk after the command finished");
    }
    if (!["events.jsonl", "lock", "secrets"].includes(e.name)) {
      // tmp is a link to the run's directory in the user's TMPDIR when one is set.
      const isDirectory = e.isSymlink
        ? (await Deno.stat(join(dir, e.name)).catch(() => undefined))?.isDirectory
        : e.isDirectory;
      await expect(join(dir, e.name), isDirectory ? "0700" : "0600", e.name);
    }
  }
  return problems;
}
