/**
 * A `file` build whose shell-local step (provisioner or post-processor) is
 * a script the trial controls, for the process-group scenarios: a ticker
 * that appends "<pid> <n>" to `ticks` every 100 ms (15 s for the first copy,
 * 5 ticks for any later one, so a rerun is short and tells itself apart),
 * or a script that traps SIGTERM. It is a `Lab`, so the campaign's
 * aftermath checks apply unchanged.
 */
import { join } from "node:path";
import { SENTINELS } from "../secret_scan.ts";
import { fileDigests, type Lab } from "./labs.ts";

/** Where the lab's script runs. */
export type StepPlace = "provisioners" | "post-processors";

/** A lab for one shell-local step. */
export interface ProcessLab extends Lab {
  /** Lines of the ticks file: [pid, n]. */
  ticks(): Promise<[number, number][]>;
  /** The pid the first copy of the ticker recorded (its shell), once it started. */
  firstTicker(): Promise<number | undefined>;
  /** Pids the trap scripts recorded in `pids`. */
  recordedPids(): Promise<number[]>;
  /** The file a TERM trap writes "done" into when it ran to its end. */
  trapped: string;
}

/** The scripts a step can run. */
export type LabScript =
  /** The ticker (see the module comment). */
  | "ticker"
  /** A quick script, then the ticker: two process groups, the first one over before the kill. */
  | "quick-then-ticker"
  /** The script's shell traps SIGTERM (1 s), run through the default execute_command. */
  | "trap"
  /** The script's child traps SIGTERM while the script itself dies at once. */
  | "grandchild-trap";

/** Opens a lab whose `place` runs `script`. */
export async function openProcessLab(place: StepPlace, script: LabScript): Promise<ProcessLab> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-rel-procgroup-" });
  const tmp = join(dir, "tmp");
  await Deno.mkdir(tmp);
  const out = join(dir, "output");
  const home = join(dir, ".kiln");
  const ticks = join(dir, "ticks");
  const first = join(dir, "first");
  const pids = join(dir, "pids");
  const trapped = join(dir, "trapped");
  const trap = `trap 'sleep 1; echo done > ${trapped}; exit 0' TERM`;
  const files: Record<string, string> = {
    "quick.sh": "echo quick\n",
    "ticker.sh": [
      `if [ -e ${first} ]; then limit=5; else echo $$ > ${first}; limit=150; fi`,
      "echo ticking",
      "n=0",
      `while [ $n -lt $limit ]; do echo "$$ $n" >> ${ticks}; n=$((n+1)); sleep 0.1; done`,
      "",
    ].join("\n"),
    "trap.sh": [trap, `echo $$ > ${pids}`, "echo ready", "sleep 60 & wait", ""].join("\n"),
    "grandchild-trap.sh": [
      // "ready" only once the child's trap is set: a TERM before that is not the point.
      `sh -c "${trap}; echo armed > ${trapped}.armed; sleep 60 & wait" &`,
      `echo "$$ $!" > ${pids}`,
      `while [ ! -e ${trapped}.armed ]; do sleep 0.05; done`,
      "echo ready",
      "wait",
      "",
    ].join("\n"),
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir, name), text, { mode: 0o755 });
  }
  const scripts = {
    ticker: [join(dir, "ticker.sh")],
    "quick-then-ticker": [join(dir, "quick.sh"), join(dir, "ticker.sh")],
    trap: [join(dir, "trap.sh")],
    "grandchild-trap": [join(dir, "grandchild-trap.sh")],
  }[script];
  const step = {
    type: "shell-local",
    scripts,
    environment_vars: ["SECRET={{user `secret`}}"],
  };
  const template = {
    variables: { secret: SENTINELS.sensitiveVariable },
    "sensitive-variables": ["secret"],
    builders: [{ type: "file", name: "local", content: "x\n", target: join(out, "result.txt") }],
    [place]: [step],
  };
  const file = join(dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  const numbers = async (path: string) =>
    (await Deno.readTextFile(path).catch(() => "")).trim().split(/\s+/).filter((s) => s !== "")
      .map(Number);
  return {
    kind: "file",
    dir,
    home,
    tmp,
    buildArgs: [file],
    spawn: (env = {}) => ({ cwd: dir, home, tmp, env }),
    counter: () => Promise.resolve([]),
    artifacts: () => fileDigests(out),
    leaks: async (state) => {
      if (state?.builds.local?.status === "succeeded") return [];
      return Object.keys(await fileDigests(out)).map((f) => `output/${f}`);
    },
    launches: () => 0,
    outputs: [out],
    close: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    ticks: async () =>
      (await Deno.readTextFile(ticks).catch(() => "")).split("\n").filter((l) => l !== "")
        .map((l) => l.split(" ").map(Number) as [number, number]),
    firstTicker: async () => (await numbers(first))[0],
    recordedPids: () => numbers(pids),
    trapped,
  };
}

/** True while `pid` runs (a zombie counts as gone). */
export function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** Whether `pid` is gone within `ms`. */
export async function goneWithin(pid: number, ms = 5_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (!running(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !running(pid);
}

/** Resolves once `check` holds (polling), false after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return await check();
}

/**
 * The ticks as runs of one writer each: [[pid, count], ...]. Two copies
 * running side by side show as more runs than writers.
 */
export function writerRuns(ticks: [number, number][]): [number, number][] {
  const runs: [number, number][] = [];
  for (const [pid] of ticks) {
    const last = runs.at(-1);
    if (last && last[0] === pid) last[1]++;
    else runs.push([pid, 1]);
  }
  return runs;
}
