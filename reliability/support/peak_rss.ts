/**
 * Runs `kiln <args>` as its own process and reports its peak resident memory,
 * so a trial can show that hostile input is stopped before it costs memory.
 * Uses GNU time's exact figure (from wait4) when /usr/bin/time exists, else
 * samples /proc/<pid>/status (VmHWM) while the process runs.
 */
import { join } from "node:path";
import { CLI_PATH } from "../../tests/support/kiln_cli.ts";

/** How a measured kiln process ended. */
export interface MeasuredExit {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident set size in bytes (0 when it could not be measured). */
  peakRss: number;
  /** Killed at the deadline. */
  hung: boolean;
}

const GNU_TIME = "/usr/bin/time";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function vmHwm(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs kiln in `cwd` with KILN_HOME `home`; killed after `timeoutMs`. */
export async function runKilnMeasured(
  args: string[],
  options: { cwd: string; home: string; timeoutMs: number; env?: Record<string, string> },
): Promise<MeasuredExit> {
  const rssFile = join(options.cwd, `.peak-rss-${crypto.randomUUID()}`);
  const kiln = [Deno.execPath(), "run", "-A", CLI_PATH, ...args];
  const useTime = await exists(GNU_TIME);
  const [cmd, ...rest] = useTime ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...kiln] : kiln;
  const child = new Deno.Command(cmd, {
    args: rest,
    cwd: options.cwd,
    env: { KILN_HOME: options.home, NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let hung = false;
  // Killing GNU time alone would leave kiln running: kill its children first.
  const deadline = setTimeout(async () => {
    hung = true;
    const children = await Deno.readTextFile(`/proc/${child.pid}/task/${child.pid}/children`)
      .catch(() => "");
    for (const pid of children.split(/\s+/).filter(Boolean)) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, options.timeoutMs);
  let sampled = 0;
  let running = true;
  const sampler = (async () => {
    while (!useTime && running) {
      sampled = Math.max(sampled, await vmHwm(child.pid));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const out = await child.output();
  clearTimeout(deadline);
  running = false;
  await sampler;
  let peakRss = sampled;
  if (useTime) {
    const kb = Number((await Deno.readTextFile(rssFile).catch(() => "")).trim().split("\n").pop());
    peakRss = Number.isFinite(kb) ? kb * 1024 : 0;
    await Deno.remove(rssFile).catch(() => {});
  }
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    peakRss,
    hung,
  };
}
