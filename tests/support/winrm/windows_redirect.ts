/**
 * cmd.exe output redirection for the emulator: `> file` truncates, `>> file`
 * appends, `2>` takes stderr, `nul` swallows. As cmd.exe does, every target
 * is opened before the command runs (so `>` empties it even when the command
 * fails), a target in a missing directory stops the command with "The
 * system cannot find the path specified." and errorlevel 1, and output is
 * written as it is produced.
 */
import type { EmulatedIo } from "./emulation.ts";
import { writeLine } from "./windows_machine.ts";

/** One `[1|2]>[>] target` of a simple command. */
export interface Redirection {
  stream: "stdout" | "stderr";
  append: boolean;
  /** The Windows path as written, quotes removed. */
  path: string;
}

const encoder = new TextEncoder();

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

/** Runs `fn` with an io whose streams go to the redirection targets; resolves with its exit code. */
export async function withRedirections(
  io: EmulatedIo,
  redirections: readonly Redirection[],
  fn: (io: EmulatedIo) => Promise<number>,
): Promise<number> {
  const files: Deno.FsFile[] = [];
  const redirected: EmulatedIo = { ...io };
  try {
    for (const r of redirections) {
      if (/^nul(:)?$/i.test(r.path)) {
        redirected[r.stream] = () => {};
        continue;
      }
      let file: Deno.FsFile;
      try {
        file = await Deno.open(io.localPath(r.path), {
          write: true,
          create: true,
          append: r.append,
          truncate: !r.append,
        });
      } catch {
        writeLine(io.stderr, "The system cannot find the path specified.");
        return 1;
      }
      files.push(file);
      redirected[r.stream] = (text) => writeAllSync(file, encoder.encode(text));
    }
    return await fn(redirected);
  } finally {
    for (const file of files) file.close();
  }
}
