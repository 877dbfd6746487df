/**
 * One `kiln validate` worker for bench/realworld.ts: reads jobs (one JSON
 * line each: the directory to run in and validate's arguments) from stdin
 * and answers each with one JSON line (exit code and output). A worker
 * pays Deno's start once for many templates; it runs one job at a time,
 * since each moves its process's working directory, as the user's shell.
 */
import { run } from "../cli/validate.ts";

/** A job: `kiln validate ...args`, run in `dir`. */
export interface ValidateJob {
  dir: string;
  args: string[];
}

/** The answer to a job. */
export interface ValidateAnswer {
  code: number;
  output: string;
}

if (import.meta.main) {
  for await (const line of stdinLines()) {
    if (line.trim() === "") continue;
    const job = JSON.parse(line) as ValidateJob;
    let output = "";
    let code: number;
    try {
      Deno.chdir(job.dir);
      code = await run(job.args, { write: (text) => output += text });
    } catch (err) {
      code = 70;
      output = `worker: ${err instanceof Error ? err.message : err}`;
    }
    const answer: ValidateAnswer = { code, output };
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(answer) + "\n"));
  }
}

async function* stdinLines(): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered !== "") yield buffered;
}
