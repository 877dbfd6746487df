/**
 * `kiln build -debug`: Packer's pauses. After every step runs, and before a
 * step is undone, the build waits for Enter on stdin:
 * "==> NAME: Pausing after run of step 'X'. Press enter to continue."
 * When stdin is closed (a pipe at EOF, /dev/null, CI) nothing can answer,
 * so — as Packer 1.6.6, whose question fails without a terminal — the run
 * goes on without waiting, then and for the rest of the run.
 */
import { askLine } from "./prompt.ts";
import { stdoutSink } from "./stdout_sink.ts";

/** Where in a step's life the pause is. */
export type PausePoint = "after run of" | "before cleanup of";

/** Pauses build `build` at `point` of step `step`; returns early when `signal` aborts. */
export type DebugPause = (
  build: string,
  point: PausePoint,
  step: string,
  signal?: AbortSignal,
) => Promise<void>;

/** Creates the run's pause; `read` asks and resolves undefined at end of input. */
export function debugPause(
  read: (question: string) => Promise<string | undefined> = askLine,
  write: (text: string) => void = stdoutSink,
): DebugPause {
  let closed = false;
  return async (build, point, step, signal) => {
    if (closed || signal?.aborted) return;
    const answer = read(`==> ${build}: Pausing ${point} step '${step}'. Press enter to continue. `);
    const line = await (signal ? raceAbort(answer, signal) : answer);
    if (line === undefined && !signal?.aborted) {
      closed = true;
      write("(stdin is closed: -debug will not pause)\n");
    } else if (line !== undefined && !Deno.stdin.isTerminal()) {
      // A terminal echoes the Enter; a piped answer does not, so end the line here.
      write("\n");
    }
  };
}

/** A cancelled build must not wait for Enter (Packer stops waiting on cancel too). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
