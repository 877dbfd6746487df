/**
 * Runs kiln the two ways a trial can: in-process (the CLI's `main` in a
 * worker, fast) or as the real `kiln` process; both under a hard timeout, and
 * one verdict on what came out: a clear error or a success, never a stack
 * trace, an uncaught exception or a hang.
 */
import { runKiln } from "../../tests/support/kiln_cli.ts";
import type { CliReply, CliRequest } from "./cli_worker.ts";

export type { CliReply, CliRequest };

/** A finished trial, or one that had to be killed. */
export interface TrialOutput extends CliReply {
  /** Killed at the timeout. */
  hung?: boolean;
  /** The process died of a signal. */
  signal?: string | null;
}

/** Whose turn it is to run the CLI in-process (see InProcessCli.run). */
const TURN_LOCK = `${Deno.env.get("TMPDIR") || "/tmp"}/kiln-in-process-cli-${Deno.pid}.lock`;

/** Runs CLI invocations one at a time in a worker, replacing the worker when one hangs. */
export class InProcessCli {
  #worker: Worker | undefined;

  #spawn(): Worker {
    return new Worker(new URL("./cli_worker.ts", import.meta.url), { type: "module" });
  }

  /**
   * Runs `kiln <args>` in-process; kills it after `timeoutMs`. Runs of every
   * InProcessCli in the process take turns: a trial's chdir and environment
   * are process-wide, and `deno test --parallel` puts several test modules
   * in one process.
   */
  async run(request: CliRequest, timeoutMs: number): Promise<TrialOutput> {
    // Test modules may run in separate isolates of one process, so the turn
    // is an flock (it excludes every other open of the file, in-process too).
    const lock = await Deno.open(TURN_LOCK, { create: true, write: true });
    try {
      await lock.lock(true);
      // Read under the lock: every holder restores the directory before it lets go.
      return await this.#runNow(request, timeoutMs, Deno.cwd());
    } finally {
      lock.close();
    }
  }

  #runNow(request: CliRequest, timeoutMs: number, cwd: string): Promise<TrialOutput> {
    const worker = this.#worker ??= this.#spawn();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        worker.terminate();
        this.#worker = undefined;
        Deno.chdir(cwd);
        resolve({ code: -1, stdout: "", stderr: "", hung: true });
      }, timeoutMs);
      worker.onmessage = (e: MessageEvent<CliReply>) => {
        clearTimeout(timer);
        resolve(e.data);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        clearTimeout(timer);
        worker.terminate();
        this.#worker = undefined;
        Deno.chdir(cwd);
        resolve({ code: 1, stdout: "", stderr: "", uncaught: `worker error: ${e.message}` });
      };
      worker.postMessage({ ...request, restoreCwd: cwd });
    });
  }

  /** Stops the worker. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}

/** Whether `args` fit on a command line (Linux refuses a single argument over 128 KiB). */
export function fitsCommandLine(args: string[]): boolean {
  return args.every((a) => a.length < 100_000 && !a.includes("\0"));
}

/** Runs `kiln <args>` as its own process, as a user would; killed after `timeoutMs`. */
export async function runCliProcess(request: CliRequest, timeoutMs: number): Promise<TrialOutput> {
  const signal = AbortSignal.timeout(timeoutMs);
  const out = await runKiln(request.args, { cwd: request.cwd, env: request.env, signal });
  return { ...out, hung: signal.aborted };
}

const TRACE = [
  /error: Uncaught/,
  /Stack backtrace/,
  /\n\s+at (async )?\S*\s*\(?(file|ext|node):[^\n]*:\d+:\d+/,
  /internal error/,
  /\bundefined is not|Cannot read propert|is not a function|Maximum call stack/,
];

/**
 * What is wrong with a trial's output, or undefined when it is a success or a
 * clear error: exit 0, or exit `errorCode` with a message (naming
 * `mustName` when given) and no trace of a crash.
 */
export function badOutcome(
  out: TrialOutput,
  options: { mustName?: string; allowSuccess?: boolean; errorCode?: number } = {},
): string | undefined {
  if (out.hung) return "hung (killed at the timeout)";
  if (out.uncaught) return `uncaught exception: ${firstLine(out.uncaught)}`;
  if (out.signal) return `died of ${out.signal}`;
  const text = `${out.stdout}\n${out.stderr}`;
  for (const re of TRACE) {
    const m = re.exec(text);
    if (m) return `crash trace in output: ${firstLine(text.slice(Math.max(0, m.index - 80)))}`;
  }
  if (out.code === 0) {
    return options.allowSuccess === false ? "succeeded; expected an error" : undefined;
  }
  if (out.code !== (options.errorCode ?? 1)) return `exit ${out.code}: ${firstLine(out.stderr)}`;
  if (out.stderr.trim() === "" && out.stdout.trim() === "") return "exit 1 without a message";
  if (options.mustName && !text.includes(options.mustName)) {
    return `error does not name ${options.mustName}: ${firstLine(out.stderr || out.stdout)}`;
  }
  return undefined;
}

function firstLine(text: string): string {
  const line = text.trim().split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
