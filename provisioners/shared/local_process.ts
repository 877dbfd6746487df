/**
 * Runs a local command the way shell-local needs: output streamed line by
 * line, and cancellation that really stops the work — the command runs in
 * its own process group, so aborting kills the shell *and* whatever it
 * started (a `sleep` in a script would otherwise outlive the build).
 */
import { type StreamSummary, SummarizedStream } from "./output.ts";
import type { OutputGuard } from "../../runtime/masker.ts";

/** How to run a local command. */
export interface LocalRunOptions {
  /** Receives each stdout line. */
  stdout?: (line: string) => void;
  /** Receives each stderr line. */
  stderr?: (line: string) => void;
  /** The run's secrets: long lines and summaries are never cut inside one. */
  guard?: OutputGuard;
  /** Aborting kills the command's process group (SIGTERM, then SIGKILL after `killGraceMs`). */
  signal?: AbortSignal;
  /** Extra environment variables (the parent's environment is inherited). */
  env?: Record<string, string>;
  cwd?: string;
  /** Grace between SIGTERM and SIGKILL on abort. */
  killGraceMs?: number;
  /**
   * How long to keep reading output after the command exited: a background
   * process it started may hold the pipes open forever.
   */
  drainMs?: number;
}

/** How a local command ended. */
export interface LocalRunResult {
  /** Exit status; -1 when a signal ended it (as Packer reports it). */
  code: number;
  /** The signal that ended it, if any. */
  signal?: string;
  stdout: StreamSummary;
  stderr: StreamSummary;
}

/** The command could not be started (e.g. the program does not exist). */
export class StartError extends Error {
  constructor(program: string, cause: unknown) {
    super(`could not start ${program}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StartError";
  }
}

/**
 * Runs `argv` and resolves when it has exited and its output is consumed.
 * Rejects with the signal's reason when aborted (after the process is gone).
 */
export async function runLocalCommand(
  argv: readonly string[],
  options: LocalRunOptions = {},
): Promise<LocalRunResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A new session makes the child a process-group leader we can kill as a whole.
      detached: true,
    }).spawn();
  } catch (err) {
    throw new StartError(argv[0], err);
  }
  const out = new SummarizedStream(options.stdout, options.guard);
  const err = new SummarizedStream(options.stderr, options.guard);
  const readers = [pump(child.stdout, out), pump(child.stderr, err)];
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    killGroup(child.pid, "SIGTERM");
    killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), options.killGraceMs ?? 2000);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await child.status;
    // Stragglers in the group (`daemon &`) must not outlive a cancelled build.
    if (signal?.aborted) killGroup(child.pid, "SIGKILL");
    await drain(readers, signal?.aborted ? 0 : options.drainMs ?? 2000);
    signal?.throwIfAborted();
    return {
      code: status.signal ? -1 : status.code,
      signal: status.signal ?? undefined,
      stdout: out.summary(),
      stderr: err.summary(),
    };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (killTimer !== undefined) clearTimeout(killTimer);
  }
}

/** A stream being read into lines; `cancel` stops reading early. */
interface Pump {
  done: Promise<void>;
  cancel(): Promise<void>;
}

function pump(stream: ReadableStream<Uint8Array>, lines: SummarizedStream): Pump {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        lines.push(value);
      }
    } catch {
      // Cancelled by drain(): whatever arrived has been delivered.
    } finally {
      reader.releaseLock();
    }
    lines.flush();
  })();
  return { done, cancel: () => reader.cancel().catch(() => {}) };
}

/** Waits for the readers, at most `ms` once the command has exited, then cancels them. */
async function drain(pumps: Pump[], ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = Promise.all(pumps.map((p) => p.done)).then(() => true);
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    if (await Promise.race([done, late])) return;
    await Promise.all(pumps.map((p) => p.cancel()));
    await done;
  } finally {
    clearTimeout(timer);
  }
}

function killGroup(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(-pid, sig);
  } catch {
    // The group is already gone.
  }
}
