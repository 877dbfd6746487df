/** Line prompts on the terminal (on-error=ask, second Ctrl-C), one question at a time. */
import { promptState } from "./terminal.ts";
import { stdoutSink } from "./stdout_sink.ts";

let queue: Promise<unknown> = Promise.resolve();
let pending = "";
const decoder = new TextDecoder();

async function readLine(): Promise<string | undefined> {
  const buf = new Uint8Array(1024);
  while (!pending.includes("\n")) {
    const n = await Deno.stdin.read(buf);
    if (n === null) {
      const rest = pending;
      pending = "";
      return rest === "" ? undefined : rest;
    }
    pending += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  const at = pending.indexOf("\n");
  const line = pending.slice(0, at);
  pending = pending.slice(at + 1);
  return line;
}

/** Asks `question` on stdout and resolves with the answer ("" at end of input). */
export async function ask(question: string): Promise<string> {
  return (await askLine(question)) ?? "";
}

/** Asks `question` on stdout; resolves with the answer, undefined at end of input. */
export function askLine(question: string): Promise<string | undefined> {
  const next = queue.then(async () => {
    promptState.active = true;
    try {
      // On a terminal the status line is wiped first; a pipe gets the bare question.
      stdoutSink(`${Deno.stdout.isTerminal() ? "\r\x1b[2K" : ""}${question}`);
      return await readLine();
    } finally {
      promptState.active = false;
    }
  });
  queue = next.catch(() => {});
  return next;
}

/** Whether prompting makes sense (stdin is a terminal). */
export function canPrompt(): boolean {
  return Deno.stdin.isTerminal();
}
