/**
 * A `kiln` CLI process for the campaign: its own process (as a user runs it),
 * stdout read line by line as it is printed, so a trial can interrupt it at
 * a chosen moment and later compare what it showed with what its log kept.
 */
import { CLI_PATH } from "../../tests/support/kiln_cli.ts";

/** How to start kiln. */
export interface KilnSpawnOptions {
  cwd: string;
  /** KILN_HOME. */
  home: string;
  /** TMPDIR for kiln and its children: a trial checks it is empty (and secret-free) afterwards. */
  tmp: string;
  env?: Record<string, string>;
}

/** A running (or finished) kiln process. */
export interface KilnProcess {
  pid: number;
  /** Complete stdout lines so far. */
  lines: string[];
  /** Resolves with the first stdout line (seen so far or later) matching; undefined if it exits first. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<string | undefined>;
  /** Sends a signal (ignored when the process is gone). */
  kill(signal: Deno.Signal): void;
  /** Resolves when the process has exited and its output is drained. */
  done: Promise<KilnExit>;
}

/** How a kiln process ended. */
export interface KilnExit {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** The run id kiln announced (stderr banner or any output), if any. */
  runId?: string;
}

/** The run id in kiln's output. */
export function runIdIn(text: string): string | undefined {
  return text.match(/\b(\d{8}T\d{6}Z-[0-9a-f]+)\b/)?.[1];
}

/** Starts `kiln <args>`. */
export function spawnKiln(args: string[], options: KilnSpawnOptions): KilnProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, ...args],
    cwd: options.cwd,
    env: { KILN_HOME: options.home, NO_COLOR: "1", TMPDIR: options.tmp, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters = new Set<{ match: RegExp; resolve: (l: string | undefined) => void }>();
  let stdout = "";
  const readOut = (async () => {
    let partial = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.match.test(line)) {
            waiters.delete(w);
            w.resolve(line);
          }
        }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const done = (async (): Promise<KilnExit> => {
    const status = await child.status;
    await readOut.catch(() => {});
    for (const w of waiters) w.resolve(undefined);
    waiters.clear();
    const err = await stderr.catch(() => "");
    return {
      code: status.code,
      signal: status.signal,
      stdout,
      stderr: err,
      runId: runIdIn(err) ?? runIdIn(stdout),
    };
  })();
  return {
    pid: child.pid,
    lines,
    waitForLine: (match, timeoutMs = 120_000) => {
      const seen = lines.find((l) => match.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const w = {
          match,
          resolve: (l: string | undefined) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(w);
        // The process may already be gone: done resolves every waiter.
        done.then(() => w.resolve(lines.find((l) => match.test(l))));
      });
    },
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
    },
    done,
  };
}

/** Runs `kiln <args>` to completion. */
export function runKilnIn(args: string[], options: KilnSpawnOptions): Promise<KilnExit> {
  return spawnKiln(args, options).done;
}
