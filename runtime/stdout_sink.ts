/**
 * Writing to stdout when its reader may have gone. Kept apart from the
 * terminal renderer so commands that only print lines (`validate`,
 * `inspect`) load nothing else of the runtime.
 */

const encoder = new TextEncoder();

let stdoutGone = false;

/**
 * Writes text to stdout, completely. When the reader has gone (`kiln ... |
 * head -1`) the rest is dropped without a word: the command finishes its
 * work (a build its cleanup) and exits with its own status — the event log
 * keeps everything the terminal no longer shows.
 */
export function stdoutSink(text: string): void {
  if (stdoutGone) return;
  const bytes = encoder.encode(text);
  let done = 0;
  try {
    while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    stdoutGone = true;
  }
}
