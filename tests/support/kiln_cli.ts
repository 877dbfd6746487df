/**
 * Runs the kiln CLI the way a user does: its own process, colour off, stdin
 * closed, output captured, so tests see exactly what a terminal would.
 */

/** The CLI entry point, for tests that must drive the process themselves (signals, stdin). */
export const CLI_PATH = new URL("../../cli.ts", import.meta.url).pathname;

/** The repository root: where kiln processes start unless told otherwise. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** Where and how to run the CLI. */
export interface KilnCliOptions {
  /** Working directory; default the test's. */
  cwd?: string;
  /** KILN_HOME; default inherited. */
  home?: string;
  /** Extra environment variables (they win over the defaults). */
  env?: Record<string, string>;
  /** Aborting it kills the process (a hard timeout for trials that might hang). */
  signal?: AbortSignal;
}

/** How the CLI ended and what it printed. */
export interface KilnCliOutput {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Runs `kiln ...args` to completion. */
export async function runKiln(
  args: string[],
  options: KilnCliOptions = {},
): Promise<KilnCliOutput> {
  const env: Record<string, string> = {
    ...(options.home === undefined ? {} : { KILN_HOME: options.home }),
    NO_COLOR: "1",
    ...options.env,
  };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, ...args],
    // Never the shared test process's current directory, which another
    // module may have left in a scratch directory it deletes.
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
