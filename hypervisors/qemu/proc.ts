/**
 * What Linux's procfs says about a process, as far as telling "this exact
 * qemu is still running" needs: a pid is reused, but (boot id, pid, start
 * time) names one process for the life of the machine. Kept here rather than
 * imported from kiln's runtime so the qemu adapters stand alone.
 */

/** One process as /proc/<pid>/stat describes it. */
export interface ProcInfo {
  pid: number;
  /** Field 3: "R", "S", "D", "T", ... "Z" (zombie) and "X" (dead) are gone for good. */
  state: string;
  /** Field 6: the session (a process started with setsid leads its own). */
  session: number;
  /** Field 9: kernel flags; PF_EXITING is set once the process is on its way out. */
  flags: number;
  /** Field 22: start time in clock ticks after boot, as written (compared, never converted). */
  startTicks: string;
}

const PF_EXITING = 0x4;

/** The stat of `pid`, or undefined when there is no such process (or no procfs). */
export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // Field 2 (the command name) may hold spaces and ")": the rest follows the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  if (rest.length < 20) return undefined;
  return {
    pid,
    state: rest[0],
    session: Number(rest[3]),
    flags: Number(rest[6]),
    startTicks: rest[19],
  };
}

/** Whether the process will never run again: a zombie, dead, or already exiting. */
export function isGone(info: ProcInfo): boolean {
  return info.state === "Z" || info.state === "X" || (info.flags & PF_EXITING) !== 0;
}

/** The command line of `pid` as its argv (empty when unreadable or a zombie). */
export function procCmdline(pid: number): string[] {
  try {
    const text = new TextDecoder().decode(Deno.readFileSync(`/proc/${pid}/cmdline`));
    return text ? text.replace(/\0$/, "").split("\0") : [];
  } catch {
    return [];
  }
}

/** This boot's id: start times mean nothing once the machine has rebooted. */
export function currentBootId(): string | undefined {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim() || undefined;
  } catch {
    return undefined;
  }
}
