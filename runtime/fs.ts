/** Small file-system queries shared by components, the test runner and tests. */

/**
 * Whether something exists at `path`, following symlinks (a dangling link
 * does not count). Any error, not only NotFound, counts as absent: callers
 * only decide whether to create or skip.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
