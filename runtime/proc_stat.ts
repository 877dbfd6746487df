/**
 * What Linux says about a process (`/proc/<pid>/stat`): enough to tell a
 * live process from a zombie or from a reused pid. A pid alone names
 * nothing for long (pid_max is often 32768); a pid plus its start time names
 * one process for as long as the machine stays up. Reads are synchronous:
 * procfs files are generated in memory and a scan must be one consistent
 * look, not interleaved with other work.
 */

/** One process, as its stat line describes it. */
export interface ProcStat {
  pid: number;
  /** Field 3: "R", "S", "D", ... "Z" is a zombie (exited, not yet reaped), "X" dead. */
  state: string;
  ppid: number;
  /** Field 5: the process group. */
  pgrp: number;
  session: number;
  /** Field 9: kernel flags (PF_EXITING says the process is on its way out). */
  flags: number;
  /** Field 22: start time in clock ticks after boot, as written (compared, never converted). */
  start: string;
}

/** The stat of `pid`, or undefined when there is no such process (or no procfs). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  if (rest.length < 20) return undefined;
  return {
    pid,
    state: rest[0],
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    flags: Number(rest[6]),
    start: rest[19],
  };
}

/** The kernel's PF_EXITING: set when the process starts exiting (a SIGKILL was taken, say). */
const PF_EXITING = 0x4;

/**
 * Whether the process has stopped running for good: a zombie only waits to
 * be reaped, and one that is exiting (killed, tearing its memory down) will
 * never run user code again.
 */
export function isDead(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X" || (stat.flags & PF_EXITING) !== 0;
}

/**
 * The start time of `pid` while it is alive; undefined when it is gone or a
 * zombie. A lock or a ledger entry naming (pid, start) is held by a live
 * process exactly when this returns that start.
 */
export function liveProcessStart(pid: number): string | undefined {
  const stat = readProcStat(pid);
  return stat && !isDead(stat) ? stat.start : undefined;
}

/** Every process visible in /proc right now (empty without procfs). */
export function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e.name)) continue;
    const stat = readProcStat(Number(e.name));
    if (stat) out.push(stat);
  }
  return out;
}

/** This boot's id: a start time means nothing once the machine has rebooted. */
export function bootId(): string | undefined {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` was started with `NAME=value` in its environment (false when unreadable). */
export function hasEnvEntry(pid: number, entry: string): boolean {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  return new TextDecoder().decode(bytes).split("\0").includes(entry);
}
