/** Scratch directories for tests: every test removes what it wrote, even when it fails. */

/** Runs `fn` with a fresh temporary directory (named `prefix…`), removed afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
  prefix = "kiln-test-",
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
