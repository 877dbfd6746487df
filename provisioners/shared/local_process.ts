/**
 * Runs a local command the way shell-local needs: output streamed line by
 * line, and a command that is a resource of the run. It runs as the leader
 * of its own process group, recorded in the run's ledger (see
 * runtime/process_group.ts) before it may do anything, so a kiln killed with
 * `kill -9` leaves nothing `--resume` or `kiln cleanup` cannot find and stop.
 * Stopping it (a cancel, or what a finished script left running) is SIGTERM
 * to the whole group and a grace for every member, then SIGKILL.
 */
import { isAbsolute, join, resolve } from "node:path";
import { type StreamSummary, SummarizedStream } from "./output.ts";
import type { OutputGuard } from "../../runtime/masker.ts";
import type { ResourceLedger } from "../../runtime/types.ts";
import {
  GROUP_MARKER_ENV,
  groupAlive,
  groupRecord,
  identifyGroup,
  LOCAL_PROCESS_GROUP,
  stopProcessGroup,
  termGraceMs,
} from "../../runtime/process_group.ts";

/** How to run a local command. */
export interface LocalRunOptions {
  /** Receives each stdout line. */
  stdout?: (line: string) => void;
  /** Receives each stderr line. */
  stderr?: (line: string) => void;
  /** The run's secrets: long lines and summaries are never cut inside one. */
  guard?: OutputGuard;
  /** Aborting stops the command's process group (SIGTERM, then SIGKILL after `killGraceMs`). */
  signal?: AbortSignal;
  /** Extra environment variables (the parent's environment is inherited). */
  env?: Record<string, string>;
  cwd?: string;
  /** Grace between SIGTERM and SIGKILL for the whole group (default: KILN_TERM_GRACE or 2 s). */
  killGraceMs?: number;
  /**
   * How long to keep reading output after the command exited: a background
   * process it started may hold the pipes open forever.
   */
  drainMs?: number;
  /** The run's ledger: the process group is recorded there while it lives. */
  ledger?: ResourceLedger;
  /** Names the command in the ledger and in messages (e.g. the script). */
  label?: string;
  /** Receives kiln's own remarks (what it stopped). */
  say?: (message: string) => void;
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
 * Holds the command until its group is in the ledger: it runs only after
 * reading "go", and a kiln that dies before saying so closes the pipe, so
 * the command never starts unrecorded.
 */
const GATE = 'IFS= read -r go && [ "$go" = go ] && exec "$@"; exit 125';

/** Output still read after an abort, once the group is gone (a trap's last words). */
const ABORT_DRAIN_MS = 250;

/**
 * Runs `argv` and resolves when it has exited, whatever it left in its
 * process group is stopped, and its output is consumed. Rejects with the
 * signal's reason when aborted (after the whole group is gone).
 */
export async function runLocalCommand(
  argv: readonly string[],
  options: LocalRunOptions = {},
): Promise<LocalRunResult> {
  const { signal, ledger } = options;
  signal?.throwIfAborted();
  const grace = options.killGraceMs ?? termGraceMs();
  checkProgram(argv[0], options);
  const marker = crypto.randomUUID();
  await ledger?.intent({
    kind: LOCAL_PROCESS_GROUP,
    token: marker,
    ...(options.label ? { data: { label: options.label } } : {}),
  });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", GATE, "kiln-gate", ...argv],
      cwd: options.cwd,
      env: { ...options.env, [GROUP_MARKER_ENV]: marker },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // A new session makes the child a process-group leader we can stop as a whole.
      detached: true,
    }).spawn();
  } catch (err) {
    throw new StartError(argv[0], err);
  }
  const out = new SummarizedStream(options.stdout, options.guard);
  const err = new SummarizedStream(options.stderr, options.guard);
  const readers = [pump(child.stdout, out), pump(child.stderr, err)];
  const group = identifyGroup(child.pid, marker);
  const record = group && groupRecord(group, { graceMs: grace, label: options.label });
  let recorded = false;
  try {
    if (record && ledger) {
      await ledger.created(record);
      recorded = true;
    }
    signal?.throwIfAborted();
    await openGate(child.stdin, true);
  } catch (error) {
    await openGate(child.stdin, false);
    await child.status;
    await drain(readers, 0);
    if (recorded) await ledger!.deleted(record!);
    throw error;
  }
  let stopping: Promise<unknown> | undefined;
  const stop = () => stopping ??= group ? stopProcessGroup(group, grace) : stopBlind(child, grace);
  signal?.addEventListener("abort", stop, { once: true });
  if (signal?.aborted) stop(); // Aborted while the gate was opening.
  try {
    const status = await child.status;
    if (!signal?.aborted) await drain(readers, options.drainMs ?? 2000);
    if (!stopping && group && groupAlive(group)) {
      // What the script left in the background ends with it: a resumed build
      // could not bring it back, so an uninterrupted one must not rely on it.
      options.say?.(`Stopping what the script left running (process group ${group.pgid})`);
      stop();
    }
    await stopping;
    await drain(readers, signal?.aborted ? ABORT_DRAIN_MS : 0);
    if (recorded) await ledger!.deleted(record!);
    signal?.throwIfAborted();
    return {
      code: status.signal ? -1 : status.code,
      signal: status.signal ?? undefined,
      stdout: out.summary(),
      stderr: err.summary(),
    };
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

/** Lets the gated command run (`go`), or makes it exit without running. */
async function openGate(stdin: WritableStream<Uint8Array>, go: boolean): Promise<void> {
  try {
    const writer = stdin.getWriter();
    if (go) await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
  } catch {
    // Closed already, or the gate is gone (killed): nothing more to say.
  }
}

/** Without procfs the group cannot be watched: SIGTERM, then SIGKILL after the grace. */
async function stopBlind(child: Deno.ChildProcess, grace: number): Promise<void> {
  killGroup(child.pid, "SIGTERM");
  await Promise.race([child.status, new Promise((r) => setTimeout(r, grace))]);
  killGroup(child.pid, "SIGKILL");
}

/**
 * Refuses a program that cannot be run, as spawning it directly would (the
 * gate would otherwise report it as an exit status).
 */
function checkProgram(program: string, options: LocalRunOptions): void {
  const cwd = options.cwd ?? Deno.cwd();
  const candidates = program.includes("/")
    ? [isAbsolute(program) ? program : resolve(cwd, program)]
    : (options.env?.PATH ?? Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin")
      .split(":").map((dir) => resolve(cwd, join(dir || ".", program)));
  let denied = false;
  for (const path of candidates) {
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o755) & 0o111) !== 0) return;
      denied = true;
    } catch {
      // Not here.
    }
  }
  throw new StartError(
    program,
    denied ? "permission denied (not an executable file)" : "no such file or directory",
  );
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
