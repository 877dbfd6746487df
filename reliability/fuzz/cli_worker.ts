/**
 * A worker that runs kiln's CLI entry (`main` of cli.ts, what the `kiln`
 * process runs) in-process and captures what it prints: thousands of trials
 * without a process start each, while the pool can still kill a trial that
 * hangs (terminating the worker stops even a synchronous loop).
 */
/// <reference lib="deno.worker" />
import { main } from "../../cli.ts";

/** A request: the CLI's arguments, its working directory and environment additions. */
export interface CliRequest {
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** The directory to return to afterwards (the working directory is the whole process's). */
  restoreCwd?: string;
}

/** What the CLI did: exit code and output, or what escaped it. */
export interface CliReply {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when `main` threw: the CLI's own last guard would have printed this. */
  uncaught?: string;
}

let stdout = "";
let stderr = "";
const decoder = new TextDecoder();
const sink = (append: (text: string) => void) => (bytes: Uint8Array) => {
  append(decoder.decode(bytes));
  return bytes.length;
};
const text = (args: unknown[]) =>
  args.map((a) => (typeof a === "string" ? a : Deno.inspect(a))).join(" ") + "\n";

// Everything kiln prints goes through these; the parent gets it as text.
Object.assign(Deno.stdout, { writeSync: sink((t) => (stdout += t)) });
Object.assign(Deno.stderr, { writeSync: sink((t) => (stderr += t)) });
console.log = console.info = (...a: unknown[]) => void (stdout += text(a));
console.error = console.warn = (...a: unknown[]) => void (stderr += text(a));

self.onmessage = async (event: MessageEvent<CliRequest>) => {
  const { args, cwd, env, restoreCwd } = event.data;
  stdout = stderr = "";
  const saved: [string, string | undefined][] = [];
  for (const [k, v] of Object.entries(env ?? {})) {
    saved.push([k, Deno.env.get(k)]);
    Deno.env.set(k, v);
  }
  if (cwd) Deno.chdir(cwd);
  let reply: CliReply;
  try {
    const code = await main(args);
    reply = { code, stdout, stderr };
  } catch (err) {
    reply = {
      code: 1,
      stdout,
      stderr,
      uncaught: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err),
    };
  }
  for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  if (restoreCwd) Deno.chdir(restoreCwd);
  self.postMessage(reply);
};
