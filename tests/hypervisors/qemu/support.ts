/**
 * Guest-less qemu for the adapter tests: a machine held paused (`-S`) or
 * running nothing, with no default devices, under TCG — it starts in a
 * fraction of a second and never needs a disk or a kernel.
 */

/** qemu arguments of a VM that runs nothing (paused unless `running`). */
export function bareMachine(running = false): string[] {
  return [
    ...(running ? [] : ["-S"]),
    "-machine",
    "type=pc,accel=tcg",
    "-nodefaults",
    "-display",
    "none",
    "-m",
    "32",
  ];
}

/** A qemu started directly (not through process.ts) with a `-qmp` socket. */
export interface PlainQemu {
  child: Deno.ChildProcess;
  socket: string;
  /** Ends qemu (SIGKILL if still running) and waits for it. */
  kill(): Promise<void>;
}

/** Starts qemu-system-x86_64 with `args` and Packer's `-qmp unix:PATH,server,nowait`. */
export function plainQemu(dir: string, args: string[] = bareMachine()): PlainQemu {
  const socket = `${dir}/qmp.sock`;
  const child = new Deno.Command("qemu-system-x86_64", {
    args: [...args, "-qmp", `unix:${socket},server,nowait`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    child,
    socket,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
    },
  };
}

/** Milliseconds since `start` (performance.now()), rounded. */
export function since(start: number): number {
  return Math.round(performance.now() - start);
}
