/**
 * A long-lived process that runs kiln's CLI entry (`main` of cli.ts, what the
 * `kiln` process runs) once per request and captures what it prints:
 * thousands of trials without a process start each. It is a process of its
 * own, not a worker of the caller, because a trial moves the working
 * directory and sets environment variables, and both belong to the whole
 * process: in the test runner's process they moved every other test module
 * too. Requests and replies are JSON lines on a Unix socket the caller
 * listens on (its path is the argument), so a trial that reads stdin gets
 * end-of-file rather than the next request.
 */
import { main } from "../../cli.ts";

/** A request: the CLI's arguments, its working directory and environment additions. */
export interface CliRequest {
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** What the CLI did: exit code and output, or what escaped it. */
export interface CliReply {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when `main` threw: the CLI's own last guard would have printed this. */
  uncaught?: string;
}

if (import.meta.main) await serve(Deno.args[0]);

async function serve(socket: string): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const encoder = new TextEncoder();
  const reply = async (answer: CliReply) => {
    const bytes = encoder.encode(JSON.stringify(answer) + "\n");
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  };
  let stdout = "";
  let stderr = "";
  captureOutput((t) => (stdout += t), (t) => (stderr += t));
  const home = Deno.cwd();
  const decoder = new TextDecoderStream();
  let pending = "";
  for await (const chunk of conn.readable.pipeThrough(decoder)) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const request: CliRequest = JSON.parse(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      stdout = stderr = "";
      const saved: [string, string | undefined][] = [];
      for (const [k, v] of Object.entries(request.env ?? {})) {
        saved.push([k, Deno.env.get(k)]);
        Deno.env.set(k, v);
      }
      Deno.chdir(request.cwd ?? home);
      let answer: CliReply;
      try {
        answer = { code: await main(request.args), stdout, stderr };
      } catch (err) {
        const uncaught = err instanceof Error
          ? `${err.name}: ${err.message}\n${err.stack}`
          : String(err);
        answer = { code: 1, stdout, stderr, uncaught };
      }
      for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
      await reply(answer);
    }
  }
}

/** Everything kiln prints goes through these; the caller gets it as text in the reply. */
function captureOutput(out: (t: string) => void, err: (t: string) => void): void {
  const decoder = new TextDecoder();
  const text = (args: unknown[]) =>
    args.map((a) => (typeof a === "string" ? a : Deno.inspect(a))).join(" ") + "\n";
  const sink = (append: (t: string) => void) => (bytes: Uint8Array) => {
    append(decoder.decode(bytes));
    return bytes.length;
  };
  Object.assign(Deno.stdout, { writeSync: sink(out) });
  Object.assign(Deno.stderr, { writeSync: sink(err) });
  console.log = console.info = (...a: unknown[]) => out(text(a));
  console.error = console.warn = (...a: unknown[]) => err(text(a));
}
