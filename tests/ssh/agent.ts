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
