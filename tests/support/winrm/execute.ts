/**
 * How the test listener runs a command line: kiln's transfer snippets and
 * Packer's (winrmcp) restore script in TypeScript, then the Windows command emulation (W2's
 * `emulateWindowsCommand`, contract in emulation.ts), and anything neither
 * recognises with `/bin/sh -c` in the server's root, so tests can run
 * `echo`, `exit 3`, `head -c` or `sleep` as if cmd.exe ran them.
 */
import { decodePowerShell } from "../../../communicators/winrm_scripts.ts";
import type { RunningCommand } from "./commands.ts";
import type { CommandEmulator, EmulatedIo } from "./emulation.ts";
import { localPath } from "./paths.ts";
import { runSnippet } from "./transfer_emulation.ts";
import { runWinrmcpSnippet } from "./winrmcp_emulation.ts";

/** What the shell a command runs in provides. */
export interface ShellContext {
  root: string;
  env: Record<string, string>;
  emulator: CommandEmulator;
  restart(downMs?: number): void;
}

const encoder = new TextEncoder();

async function runSh(cmd: RunningCommand, shell: ShellContext): Promise<number> {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", cmd.commandLine],
    cwd: shell.root,
    env: { ...shell.env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  cmd.abort.signal.addEventListener("abort", kill, { once: true });
  const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
    for await (const chunk of stream) cmd.write(name, chunk);
  };
  const feed = (async () => {
    const writer = child.stdin.getWriter();
    try {
      while (true) {
        const chunk = await cmd.stdin.read(cmd.abort.signal);
        if (chunk === null) break;
        await writer.write(chunk);
      }
      await writer.close();
    } catch { /* the command stopped reading */ }
  })();
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, "stdout"),
    pump(child.stderr, "stderr"),
  ]);
  cmd.abort.signal.removeEventListener("abort", kill);
  feed.catch(() => {});
  return status.code;
}

/** Runs `cmd` to completion and records its exit code on it. */
export async function execute(cmd: RunningCommand, shell: ShellContext): Promise<void> {
  const toLocal = (p: string) => localPath(shell.root, p, shell.env);
  try {
    const script = decodePowerShell(cmd.commandLine);
    const stderr = (t: string) => cmd.write("stderr", encoder.encode(t));
    const snippet = script === undefined ? undefined : runSnippet(script, {
      localPath: toLocal,
      stdin: cmd.stdin,
      stdout: (b) => cmd.write("stdout", b),
      stderr,
      signal: cmd.abort.signal,
    }) ?? runWinrmcpSnippet(script, { localPath: toLocal, stderr });
    if (snippet) return cmd.finish(await snippet);
    const io: EmulatedIo = {
      localPath: toLocal,
      env: shell.env,
      stdout: (t) => cmd.write("stdout", encoder.encode(t)),
      stderr: (t) => cmd.write("stderr", encoder.encode(t)),
      restart: (ms) => shell.restart(ms),
      signal: cmd.abort.signal,
    };
    const emulated = await shell.emulator(cmd.commandLine, io);
    if (emulated !== undefined) return cmd.finish(emulated);
    cmd.finish(await runSh(cmd, shell));
  } catch (err) {
    cmd.write("stderr", encoder.encode(`${(err as Error).message}\r\n`));
    cmd.finish(1);
  }
}
