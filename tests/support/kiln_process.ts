/**
 * A running `kiln` process whose output a test reads as it comes, for what
 * only shows while the command runs: when a line appears, what a signal
 * does mid-step.
 */
import { CLI_PATH } from "./kiln_cli.ts";

/** A kiln process being watched. */
export interface WatchedKiln {
  process: Deno.ChildProcess;
  /** stdout and stderr so far, interleaved as read. */
  output(): string;
  /** Resolves once `pattern` has appeared in the output; rejects if kiln exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Waits for the exit and the end of the output. */
  done(): Promise<Deno.CommandStatus>;
}

/** Starts `kiln ...args` (colour off, stdin closed) and reads its output live. */
export function watchKiln(
  args: string[],
  options: { cwd?: string; home?: string; env?: Record<string, string> } = {},
): WatchedKiln {
  return watchProcess(Deno.execPath(), ["run", "-A", CLI_PATH, ...args], {
    cwd: options.cwd,
    env: {
      NO_COLOR: "1",
      ...(options.home === undefined ? {} : { KILN_HOME: options.home }),
      ...options.env,
    },
  });
}

/** Starts any program (stdin closed) and reads its output live, e.g. Packer beside kiln. */
export function watchProcess(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): WatchedKiln {
  const process = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const waiters = new Set<() => void>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const w of [...waiters]) w();
    }
  };
  const reading = Promise.all([read(process.stdout), read(process.stderr)]);
  let exited = false;
  const status = process.status.then((s) => {
    exited = true;
    return s;
  });
  const ended = Promise.all([status, reading]).then(([s]) => s);
  return {
    process,
    output: () => text,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
        ended.then(() => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          reject(new Error(`kiln exited (${exited}) before printing ${pattern}:\n${text}`));
        });
      }),
    done: () => ended,
  };
}
