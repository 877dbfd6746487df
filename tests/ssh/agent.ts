/** ssh-agent helpers for the agent-auth and agent-forwarding tests. */

/** Waits for a path (a socket an agent creates) to appear. */
export async function waitForPath(path: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      await Deno.lstat(path);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${path} did not appear`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Runs `fn` with SSH_AUTH_SOCK set to `sock`. The environment is shared by
 * test files running in parallel, so an exclusive file lock serialises the
 * tests that change it.
 */
export async function withAgentEnv<T>(sock: string, fn: () => Promise<T>): Promise<T> {
  const lock = await Deno.open(`${Deno.env.get("TMPDIR") || "/tmp"}/kiln-test-ssh-auth-sock.lock`, {
    create: true,
    write: true,
  });
  await lock.lock(true);
  const saved = Deno.env.get("SSH_AUTH_SOCK");
  try {
    Deno.env.set("SSH_AUTH_SOCK", sock);
    return await fn();
  } finally {
    if (saved) Deno.env.set("SSH_AUTH_SOCK", saved);
    else Deno.env.delete("SSH_AUTH_SOCK");
    await lock.unlock();
    lock.close();
  }
}
