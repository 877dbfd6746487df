/** Talking to guests with OpenSSH's `ssh` client, as a provisioner would. */

/** Who to log in as, with which key, on which forwarded port. */
export interface SshTarget {
  port: number;
  user: string;
  privateKey: string;
}

/** What a remote command did. */
export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** ssh's arguments for `target`: batch mode, the one key, no host-key bookkeeping (guests are throwaway). */
export function sshArgs(target: SshTarget, connectTimeoutSeconds = 10): string[] {
  return [
    "-i",
    target.privateKey,
    "-p",
    String(target.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    `ConnectTimeout=${connectTimeoutSeconds}`,
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=4",
    `${target.user}@127.0.0.1`,
  ];
}

/** Runs `command` in the guest (ssh exits 255 when it could not connect or log in). */
export async function sshRun(
  target: SshTarget,
  command: string,
  connectTimeoutSeconds = 10,
): Promise<SshResult> {
  const out = await new Deno.Command("ssh", {
    args: [...sshArgs(target, connectTimeoutSeconds), command],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}
