/** Shared helpers for the runtime tests: temp roots, child runs, snapshots. */
import { join, relative } from "node:path";
import { readEventLog } from "../../../runtime/log_reader.ts";
import { foldRun, liveResources, type RunState } from "../../../runtime/fold.ts";
import { eventsPath } from "../../../runtime/paths.ts";

/** A fixed run id so runs in different roots produce identical files. */
export const RUN_ID = "20260101T000000Z-abcdef";

const fakeRun = new URL("./fake_run.ts", import.meta.url).pathname;

/** Runs the fake driver in a child process; resolves with its status. */
export async function child(
  mode: "run" | "resume" | "cleanup",
  root: string,
  env: Record<string, string> = {},
  extra?: Record<string, unknown>,
): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fakeRun, mode, root, RUN_ID, ...(extra ? [JSON.stringify(extra)] : [])],
    // Its own directory, not whatever the shared test process's is.
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Every file under `root` except the run home, with its content. */
export async function snapshot(root: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      const rel = relative(root, path);
      if (rel === "home" || skip.includes(rel)) continue;
      if (e.isDirectory) await walk(path);
      else out[rel] = await Deno.readTextFile(path);
    }
  };
  await walk(root);
  return out;
}

/** The fold of the fake run under `root`. */
export async function foldOf(root: string): Promise<RunState> {
  const { records } = await readEventLog(eventsPath(RUN_ID, join(root, "home")));
  return foldRun(records, RUN_ID);
}

/** Ledger entries still live, per build. */
export function liveLedger(state: RunState): { build: string; id: string; temporary: boolean }[] {
  return Object.values(state.builds).flatMap((b) =>
    liveResources(b).map((e) => ({
      build: b.name,
      id: e.resource.id,
      temporary: !!e.resource.temporary,
    }))
  );
}

/** Every byte written under `dir`, as text (for "the secret never reaches disk"). */
export async function allBytes(dir: string): Promise<string> {
  let text = "";
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) text += await allBytes(path);
    else if (e.isFile) text += await Deno.readTextFile(path);
  }
  return text;
}
