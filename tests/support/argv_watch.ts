/**
 * Watches every process's command line (Linux `/proc/<pid>/cmdline`, which
 * any local user can read, as `ps` does) for secret values, over a whole
 * build rather than at one moment: a value that sits on a command line for
 * a few milliseconds is as readable as one that stays there.
 */

/** A process whose command line held a watched value. */
export interface ArgvHit {
  pid: number;
  /** The watched value found. */
  needle: string;
  /** The command line, arguments joined by spaces (for the failure message). */
  argv: string;
}

/** A running watch. */
export interface ArgvWatch {
  /** Complete sweeps of /proc so far: a watch that never swept proves nothing. */
  sweeps(): number;
  /** Stops after one last full sweep and returns every hit, one per process and value. */
  stop(): Promise<ArgvHit[]>;
}

const decoder = new TextDecoder();

/** One pass over /proc: the processes whose argv holds any of `needles`. */
export async function scanArgv(needles: readonly string[]): Promise<ArgvHit[]> {
  const hits: ArgvHit[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let raw: Uint8Array;
    try {
      raw = await Deno.readFile(`/proc/${entry.name}/cmdline`);
    } catch {
      continue; // exited meanwhile
    }
    const argv = decoder.decode(raw).replaceAll("\0", " ").trimEnd();
    for (const needle of needles) {
      if (argv.includes(needle)) hits.push({ pid: Number(entry.name), needle, argv });
    }
  }
  return hits;
}

/** Sweeps /proc for `needles` back to back until `stop()`. */
export function watchArgv(needles: readonly string[]): ArgvWatch {
  const found = new Map<string, ArgvHit>();
  let sweeps = 0;
  let stopping = false;
  const record = (hits: ArgvHit[]) => {
    for (const hit of hits) found.set(`${hit.pid}\0${hit.needle}`, hit);
  };
  const loop = (async () => {
    while (!stopping) {
      record(await scanArgv(needles));
      sweeps++;
      // Yield to the event loop: the test reads kiln's output meanwhile.
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    sweeps: () => sweeps,
    stop: async () => {
      stopping = true;
      await loop;
      record(await scanArgv(needles));
      return [...found.values()];
    },
  };
}
