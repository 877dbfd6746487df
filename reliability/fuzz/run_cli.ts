/**
 * Runs kiln the two ways a trial can: in a long-lived host process (the
 * CLI's `main` called once per trial, fast) or as the real `kiln` process;
 * both under a hard timeout, and one verdict on what came out: a clear error or a success, never a stack
 * trace, an uncaught exception or a hang.
 */
import { REPO_ROOT, runKiln } from "../../tests/support/kiln_cli.ts";
import type { CliReply, CliRequest } from "./cli_host.ts";

export type { CliReply, CliRequest };

/** A finished trial, or one that had to be killed. */
export interface TrialOutput extends CliReply {
  /** Killed at the timeout. */
  hung?: boolean;
  /** The process died of a signal. */
  signal?: string | null;
}

/**
 * Runs CLI invocations one at a time in a long-lived kiln process of its own
 * (cli_host.ts), replacing that process when a trial hangs or ends it. Each
 * CliHost has its own process, so hosts of different test modules never
 * share a working directory or an environment.
 */
export class CliHost {
  #host: Promise<HostProcess> | undefined;

  /** Runs `kiln <args>` in the host; kills the host after `timeoutMs`. */
  async run(request: CliRequest, timeoutMs: number): Promise<TrialOutput> {
    const host = await (this.#host ??= HostProcess.start());
    const out = await host.ask(request, timeoutMs);
    if (host.dead) this.#host = undefined;
    return out;
  }

  /** Stops the host process. */
  async close(): Promise<void> {
    const host = this.#host;
    this.#host = undefined;
    if (host) await (await host).stop();
  }
}

/** One cli_host.ts process and the socket it answers on. */
class HostProcess {
  dead = false;
  #lines: AsyncIterator<string>;

  private constructor(
    private readonly child: Deno.ChildProcess,
    private readonly conn: Deno.Conn,
    private readonly dir: string,
  ) {
    this.#lines = readLines(conn.readable)[Symbol.asyncIterator]();
    child.status.then(() => (this.dead = true));
  }

  static async start(): Promise<HostProcess> {
    const dir = await Deno.makeTempDir({ prefix: "kiln-cli-host-" });
    const path = `${dir}/host.sock`;
    const listener = Deno.listen({ transport: "unix", path });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("./cli_host.ts", import.meta.url).pathname, path],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    try {
      const conn = await Promise.race([
        listener.accept(),
        child.status.then((s) => Promise.reject(new Error(`cli_host.ts exited (${s.code})`))),
      ]);
      return new HostProcess(child, conn, dir);
    } finally {
      listener.close();
    }
  }

  async ask(request: CliRequest, timeoutMs: number): Promise<TrialOutput> {
    const bytes = new TextEncoder().encode(JSON.stringify(request) + "\n");
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const next = await Promise.race([this.#lines.next(), timedOut]);
    clearTimeout(timer);
    if (next === "timeout") {
      await this.stop();
      return { code: -1, stdout: "", stderr: "", hung: true };
    }
    if (next.done) {
      // kiln called Deno.exit: what it printed went down with the host.
      const { code, signal } = await this.child.status;
      await this.stop();
      const stderr = `(kiln ended its host process with exit ${code}; its output is lost)`;
      return { code, stdout: "", stderr, signal };
    }
    return JSON.parse(next.value);
  }

  async stop(): Promise<void> {
    this.dead = true;
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.child.status;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
}

/** Whether `args` fit on a command line (Linux refuses a single argument over 128 KiB). */
export function fitsCommandLine(args: string[]): boolean {
  return args.every((a) => a.length < 100_000 && !a.includes("\0"));
}

/** Runs `kiln <args>` as its own process, as a user would; killed after `timeoutMs`. */
export async function runCliProcess(request: CliRequest, timeoutMs: number): Promise<TrialOutput> {
  const signal = AbortSignal.timeout(timeoutMs);
  const out = await runKiln(request.args, { cwd: request.cwd, env: request.env, signal });
  return { ...out, hung: signal.aborted };
}

const TRACE = [
  /error: Uncaught/,
  /Stack backtrace/,
  /\n\s+at (async )?\S*\s*\(?(file|ext|node):[^\n]*:\d+:\d+/,
  /internal error/,
  /\bundefined is not|Cannot read propert|is not a function|Maximum call stack/,
];

/**
 * What is wrong with a trial's output, or undefined when it is a success or a
 * clear error: exit 0, or exit `errorCode` with a message (naming
 * `mustName` when given) and no trace of a crash.
 */
export function badOutcome(
  out: TrialOutput,
  options: { mustName?: string; allowSuccess?: boolean; errorCode?: number } = {},
): string | undefined {
  if (out.hung) return "hung (killed at the timeout)";
  if (out.uncaught) return `uncaught exception: ${firstLine(out.uncaught)}`;
  if (out.signal) return `died of ${out.signal}`;
  const text = `${out.stdout}\n${out.stderr}`;
  for (const re of TRACE) {
    const m = re.exec(text);
    if (m) return `crash trace in output: ${firstLine(text.slice(Math.max(0, m.index - 80)))}`;
  }
  if (out.code === 0) {
    return options.allowSuccess === false ? "succeeded; expected an error" : undefined;
  }
  if (out.code !== (options.errorCode ?? 1)) return `exit ${out.code}: ${firstLine(out.stderr)}`;
  if (out.stderr.trim() === "" && out.stdout.trim() === "") return "exit 1 without a message";
  if (options.mustName && !text.includes(options.mustName)) {
    return `error does not name ${options.mustName}: ${firstLine(out.stderr || out.stdout)}`;
  }
  return undefined;
}

function firstLine(text: string): string {
  const line = text.trim().split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
