/**
 * Running one remote command on an SSH link: output streamed as it arrives,
 * exit status returned, abort kills the command. A connection that cannot
 * start the command fails with DisconnectedError (callers retry: a reboot);
 * one that drops while the command runs yields exit status -1.
 */
import type { ClientChannel } from "ssh2";
import { DisconnectedError, type RemoteCommand, type RemoteResult } from "./communicator.ts";
import type { SshLink } from "./ssh_connect.ts";

/** Options for the session channel. */
export interface ExecOptions {
  pty: boolean;
  agentForward: boolean;
}

/** An exec channel and its command's exit status, once that arrived. */
export interface ExecChannel {
  channel: ClientChannel;
  /** The exit status (undefined until it arrives, or when a signal ended the command). */
  exitStatus(): number | undefined;
}

/**
 * Opens an exec channel, failing with DisconnectedError when the link is gone.
 * The exit status is recorded from the moment the channel opens: a command
 * that ends at once can have its status arrive in the same packet batch as the
 * channel itself, before a caller resuming after `await` could listen for it.
 */
export function openExec(
  link: SshLink,
  command: string,
  opts: ExecOptions,
): Promise<ExecChannel> {
  return new Promise((resolve, reject) => {
    if (!link.isOpen()) return reject(new DisconnectedError("ssh connection is closed"));
    const onClose = () =>
      reject(new DisconnectedError("ssh connection closed while opening a session"));
    link.client.once("close", onClose);
    try {
      link.client.exec(
        command,
        {
          pty: opts.pty ? { term: "vt100" } : undefined,
          agentForward: opts.agentForward || undefined,
        },
        (err: Error | undefined, channel: ClientChannel) => {
          link.client.off("close", onClose);
          if (err) {
            reject(
              link.isOpen() ? err : new DisconnectedError(`ssh session failed: ${err.message}`),
            );
            return;
          }
          let status: number | undefined;
          channel.on("exit", (code: number | null) => {
            if (typeof code === "number") status = code;
          });
          resolve({ channel, exitStatus: () => status });
        },
      );
    } catch (err) {
      link.client.off("close", onClose);
      reject(new DisconnectedError(`ssh session failed: ${(err as Error).message}`));
    }
  });
}

/** Runs `cmd` to completion on `link`. */
export async function execCommand(
  link: SshLink,
  cmd: RemoteCommand,
  opts: ExecOptions,
): Promise<RemoteResult> {
  if (cmd.signal?.aborted) throw cmd.signal.reason ?? new Error("cancelled");
  const { channel, exitStatus } = await openExec(link, cmd.command, opts);
  return await new Promise<RemoteResult>((resolve, reject) => {
    const onAbort = () => {
      // sshd signals only the session's shell, and its children may keep the channel
      // open: settle now rather than wait for them.
      channel.signal("KILL");
      channel.close();
      reject(cmd.signal?.reason ?? new Error("cancelled"));
    };
    cmd.signal?.addEventListener("abort", onAbort, { once: true });
    channel.on("data", (chunk: Uint8Array) => cmd.stdout?.(chunk));
    channel.stderr.on("data", (chunk: Uint8Array) => cmd.stderr?.(chunk));
    if (cmd.stdin) feedStdin(channel, cmd.stdin);
    channel.on("close", () => {
      cmd.signal?.removeEventListener("abort", onAbort);
      if (cmd.signal?.aborted) return reject(cmd.signal.reason ?? new Error("cancelled"));
      const status = exitStatus();
      if (status !== undefined) return resolve({ exitStatus: status });
      // No status: killed by a signal, or the connection dropped (a reboot). The
      // contract reports both as -1; the shell provisioner decides what that means.
      resolve({ exitStatus: -1 });
    });
  });
}

/**
 * Copies `stdin` into the channel, honouring its flow control, then sends
 * EOF; a channel that closes first ends the copy (the command is gone).
 */
async function feedStdin(channel: ClientChannel, stdin: ReadableStream<Uint8Array>): Promise<void> {
  let closed = false;
  channel.once("close", () => closed = true);
  const reader = stdin.getReader();
  try {
    while (!closed) {
      const { value, done } = await reader.read();
      if (done) break;
      if (closed) break;
      if (!channel.write(value)) {
        await new Promise<void>((resolve) => {
          channel.once("drain", resolve);
          channel.once("close", resolve);
        });
      }
    }
    if (!closed) channel.end();
  } catch {
    if (!closed) channel.end();
  } finally {
    reader.releaseLock();
    if (closed) stdin.cancel().catch(() => {});
  }
}
